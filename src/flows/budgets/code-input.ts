// The codes a request carries, read before anything is spent: every flow that checks a code calls
// these before withGuess (throttle.ts) and before the token's or challenge's attempt, so input
// that cannot be a code — letters, too few digits, an empty field — is a 400 invalid_request
// naming the field, and costs the person none of their attempts and the account none of its
// guesses. What is read is the canonical form: six ASCII digits, or a recovery code's 20
// characters; only that form is ever hashed or compared.
import { otpCodeDigits } from '../../core/otp/codes.js';
import { readTypedCode } from '../../core/otp/typed-code.js';
import { normalizeRecoveryCode } from '../../core/recovery/codes.js';
import { invalidRequest } from '../shared/errors.js';

/** An authenticator-app, SMS or e-mail code: six digits, spaces and dashes between them allowed. */
export function requireNumericCode(input: string | undefined, field = 'code'): string {
  const code = input === undefined ? undefined : readTypedCode(input, otpCodeDigits);
  if (code === undefined) throw invalidRequest(field, `Send the ${otpCodeDigits}-digit code, digits only (spaces or dashes between them are fine).`);
  return code;
}

/** A recovery code or a password reset code: 20 letters and digits, in any case, grouped or not. */
export function requireRecoveryCode(input: string, field: string): string {
  const code = normalizeRecoveryCode(input);
  if (code === undefined) throw invalidRequest(field, 'Send the code as it was given: 20 letters and digits, like ABCDE-FGHJK-MNPQR-STVWX.');
  return code;
}
