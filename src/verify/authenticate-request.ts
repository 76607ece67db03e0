// The framework-neutral adapter: an Authorization header in, claims or a ready-made HTTP
// failure out. The Fastify and Express adapters are thin wrappers around it.
import { bearerTokenFrom } from '../core/tokens/bearer-header.js';
import type { TwofoldAccessClaims } from './claims.js';
import { authenticationFailure, type AuthenticationFailure } from './challenge.js';
import { VerificationError, invalidToken } from './errors.js';
import type { AuthenticationRequirements } from './requirements.js';
import type { Verifier } from './verifier.js';

export interface AuthenticateOptions extends AuthenticationRequirements {
  /** `realm` in the WWW-Authenticate challenge. */
  realm?: string;
}

export type AuthenticationResult = { ok: true; claims: TwofoldAccessClaims } | { ok: false; error: VerificationError; failure: AuthenticationFailure };

/** The token of an `Authorization: Bearer …` header (RFC 6750 §2.1), or undefined. */
export const bearerToken = bearerTokenFrom;

export async function authenticateRequest(
  verifier: Verifier,
  authorization: string | string[] | undefined,
  options: AuthenticateOptions = {},
): Promise<AuthenticationResult> {
  const token = bearerToken(authorization);
  const realm = options.realm === undefined ? {} : { realm: options.realm };
  if (token === undefined) {
    const error = invalidToken(authorization === undefined ? 'An access token is required.' : 'The Authorization header is not a Bearer token.');
    return { ok: false, error, failure: authenticationFailure(error, { ...realm, tokenPresent: authorization !== undefined }) };
  }
  try {
    return { ok: true, claims: await verifier.verify(token, options) };
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    return { ok: false, error, failure: authenticationFailure(error, realm) };
  }
}
