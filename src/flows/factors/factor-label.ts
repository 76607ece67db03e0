// A factor's label is the person's own name for it ("Laptop", "YubiKey"): shown back to them and
// never evidence of anything (a passkey labelled "YubiKey" is `swk` like any other). The rule lives
// here, not only in the API's schema, so the hosted pages and library callers get it too: no
// control character, C0 or C1, and no bidi override (a label reaches operators' terminals through
// `twofold users show` and the audit trail), at most 64 characters, blank means none.
import { containsUnsafeCharacters } from '../../core/text/unsafe-characters.js';
import { invalidRequest } from '../shared/errors.js';

export const factorLabelMaxLength = 64;

export function factorLabel(raw: string | null | undefined): string | null {
  const label = raw?.trim() ?? '';
  if (label === '') return null;
  if (containsUnsafeCharacters(label)) throw invalidRequest('label', 'A label cannot contain control characters.');
  if ([...label].length > factorLabelMaxLength) throw invalidRequest('label', `A label has at most ${factorLabelMaxLength} characters.`);
  return label;
}
