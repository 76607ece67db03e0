// Characters that change how text is *shown* rather than what it says: C0 and C1 controls and DEL
// (ESC and CSI start the ANSI sequences that recolour, move the cursor, retitle or clear a
// terminal), the bidirectional overrides and isolates (U+202E shows "gpj.exe" as "exe.jpg"), and
// the line and paragraph separators. Text that people or clients send — a factor's label, a user
// agent, an address — and that an operator later reads (in `twofold` output, the audit trail, a
// log line) must not carry them: the label rule refuses them, stored metadata has them replaced,
// and everything the CLI prints shows them escaped. Zero-width joiners stay: emoji sequences need them.

const bidiAndSeparators = '\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\u2028\\u2029';
const unsafeCharacters = new RegExp(`[\\p{Cc}${bidiAndSeparators}]`, 'gu');
// JSON.stringify already writes C0 controls as \uXXXX (and its own layout uses raw newlines):
// what it leaves raw is DEL, C1 and the bidi and separator characters.
const leftRawByJson = new RegExp(`[\\u007f-\\u009f${bidiAndSeparators}]`, 'gu');

const codeOf = (character: string) => character.codePointAt(0) ?? 0;
const hex = (code: number, digits: number) => code.toString(16).padStart(digits, '0');

export function containsUnsafeCharacters(text: string): boolean {
  unsafeCharacters.lastIndex = 0;
  return unsafeCharacters.test(text);
}

/** For stored metadata (a user agent): each unsafe character becomes U+FFFD, the rest is kept. */
export function replaceUnsafeCharacters(text: string): string {
  return containsUnsafeCharacters(text) ? text.replace(unsafeCharacters, '\ufffd') : text;
}

/** For a terminal: each unsafe character is written as a visible escape, "\x1b" or "\u202e". */
export function escapeUnsafeCharacters(text: string): string {
  if (!containsUnsafeCharacters(text)) return text;
  return text.replace(unsafeCharacters, (character) => {
    const code = codeOf(character);
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
}

/** JSON text whose strings hold no unsafe character raw; it parses to the same values. */
export function escapeUnsafeCharactersInJson(json: string): string {
  leftRawByJson.lastIndex = 0;
  if (!leftRawByJson.test(json)) return json;
  return json.replace(leftRawByJson, (character) => `\\u${hex(codeOf(character), 4)}`);
}

/** Request metadata as it may be stored: cut to `maxLength` code units (never half a pair), unsafe characters replaced. */
export function storableText(text: string | undefined, maxLength: number): string | null {
  if (text === undefined) return null;
  return replaceUnsafeCharacters(text.slice(0, maxLength).replace(/[\ud800-\udbff]$/, ''));
}
