// Reading a numeric code as people type or paste it (authenticator-app, SMS and e-mail codes).
// Apps show "792 821", messages "792-821", and a copied line comes with a newline or a non-breaking
// space; refusing those — after spending one of five attempts — punished people for the app's
// formatting. So the digits may be grouped by spaces or dashes (any Unicode space or dash), and
// the line they came in may be pasted whole ("Your code is 792 821"): it is read only when it
// holds exactly one group of digits, and that group has exactly the code's length.
// What is never done is collecting digits from across a text: "a1b2c3d4e5f6", "12:34 56" or a
// message that also says "5 minutes" hold more than one group and are refused, so no stray digits
// are ever joined into a guess. Digits of other scripts (Arabic-Indic, full-width…), control and
// invisible format characters (a zero-width space, a bidi override) and line breaks inside the
// input are refused too. A refusal is an input error, decided before any attempt or guess is
// spent; the code read is then checked in the strict form (exactly the ASCII digits) as before.

/** The most a typed code may be: a line with a label, never a whole message. */
export const typedCodeMaxLength = 64;

const separator = '[\\p{Zs}\\t\\p{Pd}\\u2212]';
const digitGroups = new RegExp(`[0-9](?:${separator}*[0-9])*`, 'gu');
const separators = new RegExp(separator, 'gu');
// Control characters but the tab (NUL, a newline inside the line), format characters (a
// zero-width space, bidi controls), line and paragraph separators, and any number that is not an
// ASCII digit.
const refused = /(?!\t)\p{Cc}|[\p{Cf}\p{Zl}\p{Zp}]|(?![0-9])\p{N}/u;

/**
 * The code's digits (exactly `length` ASCII digits), or undefined when the input is not a code:
 * digits grouped by spaces or dashes, optionally within the one line that carried it.
 */
export function readTypedCode(input: string, length: number): string | undefined {
  const line = input.trim();
  if (line.length === 0 || line.length > typedCodeMaxLength || refused.test(line)) return undefined;
  const groups = line.match(digitGroups) ?? [];
  if (groups.length !== 1) return undefined;
  const digits = groups[0]!.replace(separators, '');
  return digits.length === length ? digits : undefined;
}
