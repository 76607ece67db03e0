// Checks a TOTP code and returns the time step it matched, so the caller can claim that step
// with a compare-and-set (the replay defence lives in the store, not here).
// - Every candidate step in the window is computed and compared in constant time; there is no
//   early exit, so timing does not reveal which step matched.
// - Only the strict format (exactly 6 ASCII digits) is evaluated; anything else is a miss.
import { HOTP, Secret } from 'otpauth';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { totpParameters } from './secret.js';

export interface TotpCheck {
  secretBase32: string;
  code: string;
  nowMs: number;
  /** Steps accepted either side of the current one (1 → T-1, T, T+1). */
  windowSteps: number;
}

const codeShape = /^[0-9]{6}$/;

export function isTotpCodeShape(code: string): boolean {
  return codeShape.test(code);
}

export function totpStepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / totpParameters.periodSeconds);
}

export interface TotpAlgorithm {
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  digits: number;
}

/** The code for one time step (RFC 4226 HOTP with the step as counter). */
export function generateTotpCode(secretBase32: string, step: number, parameters: TotpAlgorithm = totpParameters): string {
  return HOTP.generate({ secret: Secret.fromBase32(secretBase32), algorithm: parameters.algorithm, digits: parameters.digits, counter: step });
}

/** The highest matching step, or undefined. The highest, so a collision never lets a code be reused. */
export function verifyTotpCode(check: TotpCheck): number | undefined {
  if (!isTotpCodeShape(check.code)) return undefined;
  const current = totpStepAt(check.nowMs);
  let matched: number | undefined;
  for (let step = current - check.windowSteps; step <= current + check.windowSteps; step += 1) {
    if (constantTimeEqual(generateTotpCode(check.secretBase32, step), check.code)) matched = step;
  }
  return matched;
}
