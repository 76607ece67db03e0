// A factor's label is the person's own name for it ("Laptop", "YubiKey"): shown back to them and
// never evidence of anything (a passkey labelled "YubiKey" is `swk` like any other). The rule lives
// here, not only in the API's schema, so the hosted pages and library callers get it too: no
// control characters (a label reaches operators' terminals through `twofold users show`), at most
// 64 characters, blank means none.
import { invalidRequest } from './errors.js';

export const factorLabelMaxLength = 64;
const isControlCharacter = (character: string): boolean => {
  const code = character.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f;
};

export function factorLabel(raw: string | null | undefined): string | null {
  const label = raw?.trim() ?? '';
  if (label === '') return null;
  const characters = [...label];
  if (characters.some(isControlCharacter)) throw invalidRequest('label', 'A label cannot contain control characters.');
  if (characters.length > factorLabelMaxLength) throw invalidRequest('label', `A label has at most ${factorLabelMaxLength} characters.`);
  return label;
}
