// Turning a failed verification into an HTTP answer, the same for every framework adapter:
// RFC 6750 `WWW-Authenticate: Bearer` (no error code when there was no token at all, §3.1),
// RFC 9470 `insufficient_user_authentication` with `acr_values`/`max_age` so the client knows
// how to step up, and an RFC 9457 problem body with the same stable code Twofold itself uses.
// DPoP (RFC 9449 §7.1): the same parameters under the `DPoP` scheme, plus `algs`; a request without
// a token may get both challenges where both schemes are accepted (§7.2); a nonce goes in DPoP-Nonce.
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
  invalid_dpop_proof: 'Invalid DPoP proof',
  use_dpop_nonce: 'A DPoP nonce is required',
};

export type AuthenticationScheme = 'Bearer' | 'DPoP';

function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

/** The `WWW-Authenticate` value for an error (or for a request that carried no token). */
export function bearerChallenge(error: VerificationError | undefined, realm?: string): string {
  const parameters = [...realmParameter(realm), ...errorParameters(error)];
  return parameters.length === 0 ? 'Bearer' : `Bearer ${parameters.join(', ')}`;
}

/** The `DPoP` challenge (RFC 9449 §7.1): the same error parameters, and the proof algorithms accepted. */
export function dpopChallenge(error: VerificationError | undefined, options: { realm?: string; algorithms: readonly string[] }): string {
  return `DPoP ${[...realmParameter(options.realm), ...errorParameters(error), `algs=${quoted(options.algorithms.join(' '))}`].join(', ')}`;
}

function realmParameter(realm: string | undefined): string[] {
  return realm === undefined ? [] : [`realm=${quoted(realm)}`];
}

function errorParameters(error: VerificationError | undefined): string[] {
  if (error === undefined || error.code === 'verifier_unavailable') return [];
  if (error.code !== 'insufficient_authentication') return [`error="${error.code}"`, `error_description=${quoted(error.message)}`];
  const parameters = ['error="insufficient_user_authentication"', `error_description=${quoted(error.message)}`];
  if (error.missing.acrValues !== undefined) parameters.push(`acr_values=${quoted(error.missing.acrValues.join(' '))}`);
  if (error.missing.maxAge !== undefined) parameters.push(`max_age=${error.missing.maxAge}`);
  return parameters;
}

export interface AuthenticationFailureOptions {
  realm?: string;
  /** False when the request carried no credentials: the challenges then name no error (RFC 6750 §3.1). */
  tokenPresent?: boolean;
  /** The challenges to send, the error in the first; default Bearer only. */
  schemes?: readonly AuthenticationScheme[];
  /** The `algs` of a DPoP challenge; default ES256 and EdDSA. */
  dpopAlgorithms?: readonly string[];
  /** Sent as DPoP-Nonce (always with use_dpop_nonce). */
  dpopNonce?: string;
}

export function authenticationFailure(error: VerificationError, options: AuthenticationFailureOptions = {}): AuthenticationFailure {
  const headers: Record<string, string> = { 'content-type': problemContentType, 'cache-control': 'no-store' };
  if (error.status === 401) {
    const schemes = options.schemes ?? ['Bearer'];
    const challenged = options.tokenPresent === false ? undefined : error;
    const algorithms = options.dpopAlgorithms ?? ['ES256', 'EdDSA'];
    const challenges = (challenged === undefined ? schemes : schemes.slice(0, 1)).map((scheme) =>
      scheme === 'DPoP' ? dpopChallenge(challenged, { ...(options.realm === undefined ? {} : { realm: options.realm }), algorithms }) : bearerChallenge(challenged, options.realm),
    );
    headers['www-authenticate'] = challenges.join(', ');
  } else {
    headers['retry-after'] = '5';
  }
  if (options.dpopNonce !== undefined) headers['dpop-nonce'] = options.dpopNonce;
  return {
    status: error.status,
    headers,
    body: { type: `urn:twofold:error:${error.code}`, title: titles[error.code], status: error.status, code: error.code, detail: error.message },
  };
}
