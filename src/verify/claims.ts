// The claims of a Twofold access token as a resource server receives them (RFC 9068, with
// RFC 8176 `amr`, NIST `acr` and an honest `auth_time`): what the server signs, read without
// assuming which `acr` values a future server may add. Checked field by field after the
// signature, so a route can trust every property's type.
import type { AccessTokenClaims } from '../core/tokens/claims.js';

export type TwofoldAccessClaims = Omit<AccessTokenClaims, 'acr'> & {
  /** "aal2" after a second factor; "aal1" after an e-mail code or a remembered browser; "phr" / "phrh" after a passkey, when asked for. */
  acr: string;
  [claim: string]: unknown;
};

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** What every Twofold token about a sign-in carries: who, which session, how and when. */
function hasSignInClaims(payload: Record<string, unknown>): boolean {
  return (
    isNonEmptyString(payload['sub']) &&
    isNonEmptyString(payload['sid']) &&
    isNonEmptyString(payload['jti']) &&
    isNonEmptyString(payload['acr']) &&
    Array.isArray(payload['amr']) &&
    payload['amr'].every(isNonEmptyString) &&
    isNumber(payload['iat']) &&
    isNumber(payload['exp']) &&
    isNumber(payload['auth_time'])
  );
}

export function isTwofoldAccessClaims(payload: Record<string, unknown>): payload is TwofoldAccessClaims {
  return hasSignInClaims(payload) && isNonEmptyString(payload['client_id']);
}

/**
 * The claims of a forward-auth assertion (X-Twofold-Assertion): who signed in to Twofold and how,
 * for the app behind the proxy, with that app's origin as `aud` and a lifetime of 60 s.
 */
export interface TwofoldAssertionClaims {
  iss: string;
  aud: string;
  sub: string;
  username: string;
  acr: string;
  amr: string[];
  auth_time: number;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  [claim: string]: unknown;
}

export function isTwofoldAssertionClaims(payload: Record<string, unknown>): payload is TwofoldAssertionClaims {
  return hasSignInClaims(payload) && isNonEmptyString(payload['username']);
}
