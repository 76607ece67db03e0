// The claims of a Twofold access token as a resource server receives them (RFC 9068, with
// RFC 8176 `amr`, NIST `acr` and an honest `auth_time`). Checked field by field after the
// signature, so a route can trust every property's type.

export interface TwofoldAccessClaims {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  iat: number;
  exp: number;
  jti: string;
  /** The session: revoking it (logout, password change) ends all its tokens. */
  sid: string;
  auth_time: number;
  acr: string;
  amr: string[];
  [claim: string]: unknown;
}

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

export function isTwofoldAccessClaims(payload: Record<string, unknown>): payload is TwofoldAccessClaims {
  return (
    isNonEmptyString(payload['sub']) &&
    isNonEmptyString(payload['sid']) &&
    isNonEmptyString(payload['jti']) &&
    isNonEmptyString(payload['client_id']) &&
    isNonEmptyString(payload['acr']) &&
    Array.isArray(payload['amr']) &&
    payload['amr'].every(isNonEmptyString) &&
    isNumber(payload['iat']) &&
    isNumber(payload['exp']) &&
    isNumber(payload['auth_time'])
  );
}
