// TOTP model (RFC 6238): a per-user shared secret of 160 CSPRNG bits (OT-02), shown once as
// base32 and as an otpauth:// URI, stored only inside a secretbox envelope. SHA-1, 6 digits and
// 30 s steps are what every authenticator app (Google Authenticator, 1Password, Authy) supports.
import { Secret } from 'otpauth';

export const totpParameters = { algorithm: 'SHA1', digits: 6, periodSeconds: 30 } as const;
export const totpSecretBytes = 20;

export function generateTotpSecret(): string {
  return new Secret({ size: totpSecretBytes }).base32;
}
