// Errors of the client SDK. Every failure is a TwofoldClientError with a stable `code`: the API's
// own codes (README, "Errors") for problem answers, and a few codes of the SDK's own for what never
// reached a problem document (network, timeout, no tokens, a passkey prompt that failed).
import type { ProblemDocument } from './types.js';

/** Error codes the server answers with (problem+json `code`). */
export type ServerErrorCode =
  | 'invalid_request'
  | 'weak_password'
  | 'invalid_credentials'
  | 'invalid_token'
  | 'invalid_code'
  | 'invalid_passkey'
  | 'invalid_challenge'
  | 'challenge_expired'
  | 'user_verification_required'
  | 'passkey_locked'
  | 'insufficient_authentication'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'username_taken'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'headers_too_large'
  | 'too_many_attempts'
  | 'internal_error'
  | 'delivery_failed'
  | 'server_busy'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

/**
 * Error codes of the SDK itself:
 * - `network_error`: the request never got an HTTP answer (offline, DNS, refused, a redirect).
 * - `timeout`: no answer within `requestTimeoutMs`.
 * - `invalid_response`: an answer that is not the API's JSON (a proxy's HTML error page, say).
 * - `not_signed_in`: an authenticated method was called without tokens in the token store.
 * - `passkey_failed`: the WebAuthn prompt failed or was cancelled (the original error is the `cause`).
 * - `aborted`: the caller's `signal` ended the call (say, the person typed a password instead).
 * - `dpop_unavailable`: DPoP cannot be used here — no WebCrypto (an insecure page), IndexedDB
 *   refused to keep the key, or the stored tokens are DPoP-bound and this client has no `dpop`.
 */
export type ClientErrorCode = 'network_error' | 'timeout' | 'invalid_response' | 'not_signed_in' | 'passkey_failed' | 'aborted' | 'dpop_unavailable';

/** Any code a TwofoldClientError carries; unknown future server codes pass through as strings. */
export type TwofoldClientErrorCode = ServerErrorCode | ClientErrorCode | (string & {});

export interface TwofoldClientErrorInit {
  code: TwofoldClientErrorCode;
  detail: string;
  /** The HTTP status; undefined when no HTTP answer was received. */
  status?: number | undefined;
  retryAfterSeconds?: number | undefined;
  problem?: ProblemDocument | undefined;
  cause?: unknown;
}

/** A failed call: a problem answer of the server, or a failure before one (see `code`). */
export class TwofoldClientError extends Error {
  override readonly name: string = 'TwofoldClientError';
  /** The stable machine-readable code: branch on this, never on `message`. */
  readonly code: TwofoldClientErrorCode;
  /** The HTTP status, or undefined for failures without an answer (network, timeout, not signed in). */
  readonly status: number | undefined;
  /** The human-readable explanation (the problem's `detail`). */
  readonly detail: string;
  /** Seconds to wait before trying again (429 / 503), from `Retry-After`. */
  readonly retryAfterSeconds: number | undefined;
  /** The problem document as the server sent it, with any extensions (e.g. `reasons` of `weak_password`). */
  readonly problem: ProblemDocument | undefined;

  constructor(init: TwofoldClientErrorInit) {
    super(init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.detail = init.detail;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.problem = init.problem;
  }
}

/**
 * RFC 9470: the change needs a more recent (or stronger) second factor. Prove one with
 * `client.stepUp(...)`, then retry the call that threw this.
 */
export class StepUpRequiredError extends TwofoldClientError {
  override readonly name: string = 'StepUpRequiredError';
  /** How recent the second factor must be, in seconds (the challenge's `max_age`). */
  readonly maxAgeSeconds: number | undefined;
  /** The assurance levels that satisfy the challenge (`acr_values`), e.g. ["aal2"]. */
  readonly acrValues: string[];

  constructor(init: TwofoldClientErrorInit & { maxAgeSeconds: number | undefined; acrValues: string[] }) {
    super(init);
    this.maxAgeSeconds = init.maxAgeSeconds;
    this.acrValues = init.acrValues;
  }
}

export function isTwofoldClientError(value: unknown): value is TwofoldClientError {
  return value instanceof TwofoldClientError;
}

export function notSignedInError(): TwofoldClientError {
  return new TwofoldClientError({ code: 'not_signed_in', detail: 'No tokens are stored: sign in first.' });
}

/** True for a 401 that says the bearer token is no good (not a step-up challenge). */
export function isTokenRejection(error: unknown): error is TwofoldClientError {
  return error instanceof TwofoldClientError && !(error instanceof StepUpRequiredError) && error.status === 401 && error.code === 'invalid_token';
}

/**
 * True when a request may have been carried out although no usable answer came back: no answer
 * at all (network, timeout), an answer that is not the API's (a proxy's error page), or a 5xx.
 * A refresh failing so is retried with the same token (the server's reuse grace answers it).
 */
export function mayHaveLostAnswer(error: unknown): error is TwofoldClientError {
  if (!(error instanceof TwofoldClientError)) return false;
  return error.code === 'network_error' || error.code === 'timeout' || error.code === 'invalid_response' || (error.status !== undefined && error.status >= 500);
}
