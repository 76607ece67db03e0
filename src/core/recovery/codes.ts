// Recovery codes: the way back in when the authenticator is lost. Each is 20 Crockford base32
// characters (100 CSPRNG bits, as RC-01 asks), shown once in groups of five, stored
// only as HMAC-SHA256 under the server pepper, and consumed atomically by the store.
// Crockford base32 has no I, L, O or U, and reading tolerates the confusable letters people type,
// either case, and any spaces or dashes (Unicode ones too: a copied code may carry a non-breaking
// hyphen or an en dash) between the characters.
import { randomBytes } from 'node:crypto';
import { hmacSha256Base64url } from '../crypto/digest.js';

const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const codeLength = 20;
const groupLength = 5;

export function generateRecoveryCode(): string {
  const bytes = randomBytes(codeLength);
  // 256 is a multiple of 32, so `byte % 32` is uniform: each character carries exactly 5 bits.
  const characters = [...bytes].map((byte) => alphabet[byte % alphabet.length]).join('');
  return characters.match(new RegExp(`.{${groupLength}}`, 'g'))!.join('-');
}

export function generateRecoveryCodes(count: number): string[] {
  return Array.from({ length: count }, generateRecoveryCode);
}

/** Canonical form for hashing, or undefined when the input cannot be a recovery code. */
export function normalizeRecoveryCode(input: string): string | undefined {
  const canonical = input
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[\s\p{Pd}\u2212]/gu, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (canonical.length !== codeLength) return undefined;
  for (const character of canonical) if (!alphabet.includes(character)) return undefined;
  return canonical;
}

export function hashRecoveryCode(normalized: string, pepper: Uint8Array): string {
  return hmacSha256Base64url(pepper, `recovery-code:${normalized}`);
}
