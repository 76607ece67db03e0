// One-time codes sent by SMS or e-mail (OB-01/OB-02): six digits from the CSPRNG (uniform, leading
// zeros included), stored only as an HMAC under the server pepper and bound to the challenge they
// were sent for, so a code is worth nothing for any other challenge.
import { randomInt } from 'node:crypto';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { hmacSha256Base64url } from '../crypto/digest.js';

export const otpCodeDigits = 6;
const codeShape = /^[0-9]{6}$/;

export function generateOtpCode(): string {
  return String(randomInt(0, 10 ** otpCodeDigits)).padStart(otpCodeDigits, '0');
}

export function isOtpCodeShape(code: string): boolean {
  return codeShape.test(code);
}

export function hashOtpCode(code: string, challengeId: string, pepper: Uint8Array): string {
  return hmacSha256Base64url(pepper, `otp:${challengeId}:${code}`);
}

export function verifyOtpCode(code: string, challengeId: string, storedHash: string, pepper: Uint8Array): boolean {
  return isOtpCodeShape(code) && constantTimeEqual(hashOtpCode(code, challengeId, pepper), storedHash);
}
