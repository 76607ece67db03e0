// Password policy per NIST SP 800-63B and PW-01..PW-05: length 12–128 code points
// after NFKC, never truncated, no composition rules; refused when it is a common password (also
// with digits/symbols or leetspeak around it), trivially repetitive or sequential, or built from
// the username, e-mail or service name. Every reason is reported so the person can fix it at once.
import { isCommonPassword } from './common-passwords.js';
import { countCodePoints } from './normalize.js';

export type PasswordProblemCode =
  | 'too_short'
  | 'too_long'
  | 'common'
  | 'repetitive'
  | 'sequential'
  | 'contains_username'
  | 'contains_service_name';

export interface PasswordProblem {
  code: PasswordProblemCode;
  message: string;
}

export interface PasswordContext {
  username?: string;
  email?: string;
  serviceName: string;
  minLength: number;
  maxLength: number;
}

/** `password` must already be NFKC-normalized. Returns an empty list when acceptable. */
export function checkPasswordPolicy(password: string, context: PasswordContext): PasswordProblem[] {
  const length = countCodePoints(password);
  if (length > context.maxLength) {
    return [{ code: 'too_long', message: `Use at most ${context.maxLength} characters (this one has ${length}).` }];
  }
  const problems: PasswordProblem[] = [];
  if (length < context.minLength) {
    problems.push({ code: 'too_short', message: `Use at least ${context.minLength} characters (this one has ${length}).` });
  }
  const lowered = password.toLowerCase();
  if (isBuiltFromCommonPassword(lowered)) {
    problems.push({ code: 'common', message: 'This is one of the most commonly used passwords, or one with a few characters added.' });
  }
  if (isRepetitive(lowered)) {
    problems.push({ code: 'repetitive', message: 'Avoid repeating the same few characters.' });
  } else if (isSequential(lowered)) {
    problems.push({ code: 'sequential', message: 'Avoid sequences like "abcdef" or "123456".' });
  }
  const usernameWords = [context.username, context.email?.split('@')[0]].filter(isUsefulContextWord);
  if (isBuiltFromWords(lowered, usernameWords)) {
    problems.push({ code: 'contains_username', message: 'Do not build the password from your username or e-mail address.' });
  }
  if (isBuiltFromWords(lowered, [context.serviceName].filter(isUsefulContextWord))) {
    problems.push({ code: 'contains_service_name', message: `Do not build the password from the name "${context.serviceName}".` });
  }
  return problems;
}

const leetspeak: Readonly<Record<string, string>> = { '@': 'a', '4': 'a', '8': 'b', '3': 'e', '1': 'i', '!': 'i', '0': 'o', '$': 's', '5': 's', '7': 't', '+': 't' };

function undoLeetspeak(text: string): string {
  return text.replace(/[@483105$7+!]/g, (character) => leetspeak[character] ?? character);
}

const stripNonLetterEnds = (text: string): string => text.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');

/** "password1234", "Dragon2024!!" and "p@ssw0rd!!!!" all count as common. */
function isBuiltFromCommonPassword(lowered: string): boolean {
  const candidates = [lowered, stripNonLetterEnds(lowered), undoLeetspeak(lowered), stripNonLetterEnds(undoLeetspeak(lowered))];
  return candidates.some((candidate) => candidate.length >= 4 && isCommonPassword(candidate));
}

function isRepetitive(lowered: string): boolean {
  const codePoints = [...lowered];
  if (new Set(codePoints).size <= 3) return true;
  // A short unit repeated to fill the length: "abcabcabcabc", "passpasspass".
  for (let unit = 1; unit <= codePoints.length / 2; unit += 1) {
    if (codePoints.length % unit !== 0 || unit > 6) continue;
    const head = codePoints.slice(0, unit).join('');
    if (head.repeat(codePoints.length / unit) === lowered) return true;
  }
  return false;
}

function isSequential(lowered: string): boolean {
  const codes = [...lowered].map((character) => character.codePointAt(0) ?? 0);
  if (codes.length < 2) return false;
  const step = (codes[1] ?? 0) - (codes[0] ?? 0);
  if (Math.abs(step) !== 1) return false;
  return codes.every((code, index) => index === 0 || code - (codes[index - 1] ?? 0) === step || isDigitWrap(codes[index - 1] ?? 0, code, step));
}

function isDigitWrap(previous: number, current: number, step: number): boolean {
  const zero = 48;
  const nine = 57;
  return (step === 1 && previous === nine && current === zero) || (step === -1 && previous === zero && current === nine);
}

function isUsefulContextWord(word: string | undefined): word is string {
  return word !== undefined && countCodePoints(word) >= 3;
}

/** True when, after removing the words, what remains is too little to be a password of its own. */
function isBuiltFromWords(lowered: string, words: string[]): boolean {
  const haystacks = [lowered, undoLeetspeak(lowered)];
  for (const word of words.map((w) => w.toLowerCase())) {
    const parts = word.split(/[._-]+/).filter((part) => countCodePoints(part) >= 3);
    for (const haystack of haystacks) {
      if (!haystack.includes(word) && !parts.some((part) => haystack.includes(part))) continue;
      let remainder = haystack.split(word).join('');
      for (const part of parts) remainder = remainder.split(part).join('');
      const remainingLetters = remainder.replace(/[^\p{L}]/gu, '');
      if (countCodePoints(remainingLetters) < 6) return true;
    }
  }
  return false;
}
