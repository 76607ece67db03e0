// One error type for the whole of Twofold. Every failure a client can see has a stable `code`
// (the contract the README's "Errors" table documents); the HTTP status and title come from the table below, so a
// code can never drift to a different status in one route than in another.

export const errorCatalog = {
  invalid_request: { status: 400, title: 'The request is malformed' },
  invalid_challenge: { status: 400, title: 'No open challenge with that id; ask for new options' },
  challenge_expired: { status: 400, title: 'The challenge has expired; ask for new options' },
  invalid_dpop_proof: { status: 400, title: 'The DPoP proof is missing, malformed or does not match the request' },
  use_dpop_nonce: { status: 400, title: 'The DPoP proof must carry the server nonce in the DPoP-Nonce header' },
  weak_password: { status: 400, title: 'The password does not meet the password policy' },
  invalid_credentials: { status: 401, title: 'Invalid username or password' },
  invalid_token: { status: 401, title: 'The token is missing, malformed, expired or revoked' },
  invalid_code: { status: 401, title: 'The code is wrong, expired or already used' },
  invalid_passkey: { status: 401, title: 'The passkey was not accepted' },
  user_verification_required: { status: 401, title: 'The passkey did not verify the person (no PIN or biometric)' },
  insufficient_authentication: { status: 401, title: 'A more recent or stronger authentication is required' },
  forbidden: { status: 403, title: 'This token may not do that' },
  forward_auth_denied: { status: 403, title: 'The forward-auth rules refuse this request' },
  untrusted_proxy: { status: 403, title: 'Only a trusted proxy may ask the forward-auth endpoint' },
  passkey_locked: { status: 403, title: 'This passkey is locked: it looked cloned' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_timeout: { status: 408, title: 'The request did not arrive in time' },
  username_taken: { status: 409, title: 'That username is taken' },
  passwordless_not_allowed: { status: 409, title: 'The account lacks what it needs to sign in without a password' },
  passwordless_factor_required: { status: 409, title: 'A passwordless account needs this factor to sign in' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Only application/json request bodies are accepted' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  too_many_attempts: { status: 429, title: 'Too many attempts' },
  internal_error: { status: 500, title: 'Internal server error' },
  delivery_failed: { status: 502, title: 'A message could not be delivered' },
  server_busy: { status: 503, title: 'The server is busy, retry shortly' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalog;

export interface TwofoldErrorOptions {
  cause?: unknown;
  /** Extra HTTP headers for this error, e.g. `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
  /** Extra members of the problem document (RFC 9457 extensions), e.g. `reasons`. */
  extensions?: Record<string, unknown>;
  /** Overrides the catalogue status where the contract allows two (403 for a step-up on a scope). */
  status?: number;
}

export class TwofoldError extends Error {
  override readonly name = 'TwofoldError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(code: ErrorCode, detail?: string, options: TwofoldErrorOptions = {}) {
    super(detail ?? errorCatalog[code].title, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? errorCatalog[code].status;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }

  get title(): string {
    return errorCatalog[this.code].title;
  }
}

export function isTwofoldError(value: unknown): value is TwofoldError {
  return value instanceof TwofoldError;
}

/** RFC 6750 challenge for a bad bearer token; tells clients to drop the token rather than retry. */
export function invalidTokenError(detail: string): TwofoldError {
  return new TwofoldError('invalid_token', detail, {
    headers: { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${detail.replace(/"/g, "'")}"` },
  });
}
