// The one error the resource-server SDK throws. Its `code` is stable and maps to an HTTP answer:
// a missing or bad token is 401 `invalid_token` (RFC 6750); a good token from a login that was
// too weak or too old is 401 `insufficient_authentication` with the RFC 9470 challenge telling
// the client what to redo; an issuer we cannot reach is 503 — the client's token may be fine.

export type VerificationErrorCode = 'invalid_token' | 'insufficient_authentication' | 'verifier_unavailable';

/** What the route asked for and the token did not have (RFC 9470 challenge parameters). */
export interface MissingAuthentication {
  acrValues?: string[];
  maxAge?: number;
}

export class VerificationError extends Error {
  override readonly name = 'VerificationError';
  readonly status: 401 | 503;

  constructor(
    readonly code: VerificationErrorCode,
    message: string,
    readonly missing: MissingAuthentication = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = code === 'verifier_unavailable' ? 503 : 401;
  }
}

export function invalidToken(message: string, cause?: unknown): VerificationError {
  return new VerificationError('invalid_token', message, {}, cause === undefined ? undefined : { cause });
}

export function isVerificationError(error: unknown): error is VerificationError {
  return error instanceof VerificationError;
}
