// Turning a failed verification into an HTTP answer, the same for every framework adapter:
// RFC 6750 `WWW-Authenticate: Bearer` (no error code when there was no token at all, §3.1),
// RFC 9470 `insufficient_user_authentication` with `acr_values`/`max_age` so the client knows
// how to step up, and an RFC 9457 problem body with the same stable code Twofold itself uses.
import type { VerificationError } from './errors.js';

export interface AuthenticationFailure {
  status: 401 | 503;
  headers: Record<string, string>;
  body: { type: string; title: string; status: number; code: string; detail: string };
}

export const problemContentType = 'application/problem+json';

const titles: Record<VerificationError['code'], string> = {
  invalid_token: 'Invalid access token',
  insufficient_authentication: 'Stronger or more recent authentication required',
  verifier_unavailable: 'Authentication is unavailable',
};

function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

/** The `WWW-Authenticate` value for an error (or for a request that carried no token). */
export function bearerChallenge(error: VerificationError | undefined, realm?: string): string {
  const parameters: string[] = realm === undefined ? [] : [`realm=${quoted(realm)}`];
  if (error?.code === 'invalid_token') parameters.push('error="invalid_token"', `error_description=${quoted(error.message)}`);
  if (error?.code === 'insufficient_authentication') {
    parameters.push('error="insufficient_user_authentication"', `error_description=${quoted(error.message)}`);
    if (error.missing.acrValues !== undefined) parameters.push(`acr_values=${quoted(error.missing.acrValues.join(' '))}`);
    if (error.missing.maxAge !== undefined) parameters.push(`max_age=${error.missing.maxAge}`);
  }
  return parameters.length === 0 ? 'Bearer' : `Bearer ${parameters.join(', ')}`;
}

export function authenticationFailure(error: VerificationError, options: { realm?: string; tokenPresent?: boolean } = {}): AuthenticationFailure {
  const headers: Record<string, string> = { 'content-type': problemContentType, 'cache-control': 'no-store' };
  if (error.status === 401) headers['www-authenticate'] = bearerChallenge(options.tokenPresent === false ? undefined : error, options.realm);
  else headers['retry-after'] = '5';
  return {
    status: error.status,
    headers,
    body: { type: `urn:twofold:error:${error.code}`, title: titles[error.code], status: error.status, code: error.code, detail: error.message },
  };
}
