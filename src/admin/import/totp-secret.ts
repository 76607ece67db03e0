// TOTP secrets as other systems keep them, made into the base32 Twofold stores (sealed). Better
// Auth and Keycloak use the UTF-8 bytes of a random text as the HMAC key (their QR codes show
// base32 of those bytes); Supabase and Auth0 keep base32 itself. Only SHA-1, 6 digits and 30 s
// are what Twofold verifies; an enrollment with other parameters is refused (the person would
// otherwise lose the entry silently).
import { Secret } from 'otpauth';
import { refuse } from './import-record.js';

/** RFC 4226 §4: at least 128 bits of shared secret. */
const minSecretBytes = 16;
const maxSecretBytes = 128;

export function totpSecretFromBase32(text: string): string {
  const cleaned = text.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase();
  if (!/^[A-Z2-7]+$/.test(cleaned)) refuse('unsupported_totp', 'the TOTP secret is not base32');
  return checkedSecret(Secret.fromBase32(cleaned));
}

export function totpSecretFromUtf8(text: string): string {
  return checkedSecret(Secret.fromUTF8(text));
}

function checkedSecret(secret: Secret): string {
  const bytes = secret.bytes.length;
  if (bytes < minSecretBytes || bytes > maxSecretBytes) refuse('unsupported_totp', `the TOTP secret has ${bytes} bytes, outside ${minSecretBytes}..${maxSecretBytes}`);
  return secret.base32;
}

export function requireTwofoldTotpParameters(parameters: { algorithm: string; digits: number; periodSeconds: number }): void {
  const algorithm = parameters.algorithm.replace(/^hmac/i, '').toUpperCase();
  if (algorithm !== 'SHA1' || parameters.digits !== 6 || parameters.periodSeconds !== 30) {
    refuse('unsupported_totp', `TOTP with ${parameters.algorithm}, ${parameters.digits} digits, ${parameters.periodSeconds} s is not what Twofold verifies (SHA-1, 6 digits, 30 s)`);
  }
}
