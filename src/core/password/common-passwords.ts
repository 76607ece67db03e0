// The blocklist: the ~49,000 most common passwords from the zxcvbn-ts dictionary (PW-05 asks
// for at least the top 3,000). Loaded once, lowercased into a Set for O(1) lookups.
import { dictionary } from '@zxcvbn-ts/language-common';

let commonPasswords: ReadonlySet<string> | undefined;

export function isCommonPassword(lowercased: string): boolean {
  commonPasswords ??= new Set(dictionary['passwords-common'].map((entry) => String(entry).toLowerCase()));
  return commonPasswords.has(lowercased);
}

export function commonPasswordCount(): number {
  isCommonPassword('');
  return commonPasswords?.size ?? 0;
}
