// The one error the resource-server SDK throws. Its `code` is stable and maps to an HTTP answer:
// a missing or bad token is 401 `invalid_token` (RFC 6750); a good token from a login that was
// too weak or too old is 401 `insufficient_authentication` with the RFC 9470 challenge telling
// the client what to redo; an issuer we cannot reach is 503 — the client's token may be fine,
// so it must never be told to drop it.
//
// Two texts, for two readers. `message` is what an anonymous client may be told (the adapters
// put it in the problem body and the WWW-Authenticate challenge): never the issuer's address, a
// host name, a library's own words or a stack. `diagnostic` is for the operator (logs,
// onBackgroundError): which URL failed and how.
//
// DPoP (RFC 9449 §7.1) adds two 401 codes of its own: `invalid_dpop_proof` (the proof is missing,
// malformed, for another request or key, or replayed) and `use_dpop_nonce` (retry with the nonce
// sent in the DPoP-Nonce header).

export type VerificationErrorCode = 'invalid_token' | 'insufficient_authentication' | 'verifier_unavailable' | 'invalid_dpop_proof' | 'use_dpop_nonce';

/** What the route asked for and the token did not have (RFC 9470 challenge parameters). */
export interface MissingAuthentication {
  acrValues?: string[];
  maxAge?: number;
}

export class VerificationError extends Error {
  override readonly name = 'VerificationError';
  readonly status: 401 | 503;
  /** For logs only: may name the issuer's URLs and the underlying failure. Defaults to `message`. */
  readonly diagnostic: string;
  /**
   * Answer with a `DPoP` challenge even though the request used the Bearer scheme: the token is
   * bound to a key, and the client must learn to send it as DPoP (RFC 9449 §7.2).
   */
  readonly dpopChallenge: boolean;

  constructor(
    readonly code: VerificationErrorCode,
    message: string,
    readonly missing: MissingAuthentication = {},
    options?: { cause?: unknown; diagnostic?: string; dpopChallenge?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = code === 'verifier_unavailable' ? 503 : 401;
    this.diagnostic = options?.diagnostic ?? message;
    this.dpopChallenge = options?.dpopChallenge ?? false;
  }
}

export function invalidToken(message: string, options?: { cause?: unknown; diagnostic?: string; dpopChallenge?: boolean }): VerificationError {
  return new VerificationError('invalid_token', message, {}, options);
}

/** The public text of every 503: the client learns it may retry, nothing about the issuer. */
export const unavailableMessage = 'Authentication is temporarily unavailable; retry shortly.';

/** The issuer could not be asked (or answered nonsense): 503, with the details kept for the operator. */
export function verifierUnavailable(diagnostic: string, cause?: unknown): VerificationError {
  return new VerificationError('verifier_unavailable', unavailableMessage, {}, { diagnostic, ...(cause === undefined ? {} : { cause }) });
}

export function invalidDpopProof(message: string): VerificationError {
  return new VerificationError('invalid_dpop_proof', message);
}

export function isVerificationError(error: unknown): error is VerificationError {
  return error instanceof VerificationError;
}
