// The framework-neutral adapter: a request's credentials in (method, URL, Authorization and DPoP
// headers), claims or a ready-made HTTP failure out. The Fastify and Express adapters are thin
// wrappers around it.
//
// DPoP policy per route (RFC 9449 §7): 'allowed' (the default) takes Bearer tokens and DPoP-bound
// tokens with their proof; 'required' takes only `Authorization: DPoP` with a proof. Under either,
// a token bound to a key (`cnf`) sent as Bearer is refused — a bound token never works as a bearer
// token.
import { bearerTokenFrom } from '../core/tokens/bearer-header.js';
import type { TwofoldAccessClaims } from './claims.js';
import { presentedCredentials } from './authorization-header.js';
import { authenticationFailure, type AuthenticationFailure, type AuthenticationScheme } from './challenge.js';
import { VerificationError, invalidDpopProof, invalidToken } from './errors.js';
import type { AuthenticationRequirements } from './requirements.js';
import type { Verifier } from './verifier.js';

export type DpopPolicy = 'allowed' | 'required';

export interface AuthenticateOptions extends AuthenticationRequirements {
  /** `realm` in the WWW-Authenticate challenge. */
  realm?: string;
  /** 'allowed' (default): Bearer or DPoP; 'required': DPoP only. A DPoP-bound token is never accepted as Bearer. */
  dpop?: DpopPolicy;
}

/** What authenticateRequest reads of a request. */
export interface RequestCredentials {
  /** The HTTP method, e.g. "GET". */
  method: string;
  /**
   * The full URL as the client addressed it (behind a proxy: the public one), e.g.
   * "https://api.example.com/payments". Read only for DPoP requests, so a getter keeps Bearer requests from paying for it.
   */
  url: string;
  /** The Authorization header. */
  authorization: string | string[] | undefined;
  /** The DPoP header. */
  dpop?: string | string[] | undefined;
}

export type AuthenticationResult =
  | { ok: true; claims: TwofoldAccessClaims; /** To send with the answer (DPoP-Nonce). */ headers: Record<string, string> }
  | { ok: false; error: VerificationError; failure: AuthenticationFailure };

/** The token of an `Authorization: Bearer …` header (RFC 6750 §2.1), or undefined. */
export const bearerToken = bearerTokenFrom;

/**
 * `request` is the request's credentials; an Authorization header alone (the older form) still
 * works for Bearer tokens, but a DPoP token then cannot be checked and is refused.
 */
export async function authenticateRequest(
  verifier: Verifier,
  request: RequestCredentials | string | string[] | undefined,
  options: AuthenticateOptions = {},
): Promise<AuthenticationResult> {
  const http = typeof request === 'object' && request !== null && !Array.isArray(request) ? request : { authorization: request };
  const policy = options.dpop ?? 'allowed';
  const credentials = presentedCredentials(http.authorization);
  const usesDpop = (credentials.kind === 'token' && credentials.scheme === 'DPoP') || ('dpop' in http && http.dpop !== undefined);

  const refuse = (error: VerificationError, schemes: readonly AuthenticationScheme[], tokenPresent = true): AuthenticationResult => {
    // Computed only where DPoP is in play: a Bearer-only request pays nothing for nonces.
    const nonce = schemes.includes('DPoP') || usesDpop ? verifier.dpopNonce() : undefined;
    return {
      ok: false,
      error,
      failure: authenticationFailure(error, {
        ...(options.realm === undefined ? {} : { realm: options.realm }),
        tokenPresent,
        schemes,
        dpopAlgorithms: verifier.dpopAlgorithms,
        ...(nonce === undefined ? {} : { dpopNonce: nonce }),
      }),
    };
  };
  // Without a token, 'allowed' keeps the plain Bearer challenge (RFC 9449 §7.2 permits both; one
  // keeps existing clients' parsing intact, and DPoP clients learn the algorithms from discovery).
  const offered: readonly AuthenticationScheme[] = policy === 'required' ? ['DPoP'] : ['Bearer'];

  if (credentials.kind === 'none') return refuse(invalidToken('An access token is required.'), offered, false);
  if (credentials.kind === 'unreadable') {
    return refuse(invalidToken(`The Authorization header is not a ${policy === 'required' ? 'DPoP' : 'Bearer or DPoP'} token.`), offered);
  }
  if (credentials.scheme === 'Bearer' && policy === 'required') {
    return refuse(invalidToken('This resource requires a DPoP-bound token, sent with the DPoP scheme and a DPoP proof.'), ['DPoP']);
  }
  try {
    if (credentials.scheme === 'Bearer') return { ok: true, claims: await verifier.verify(credentials.token, options), headers: {} };
    if (!('method' in http)) throw invalidDpopProof('This service cannot check DPoP proofs here.');
    const claims = await verifier.verifyDpop(credentials.token, { method: http.method, url: http.url, proof: http.dpop }, options);
    const nonce = verifier.dpopNonce();
    return { ok: true, claims, headers: nonce === undefined ? {} : { 'dpop-nonce': nonce } };
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    return refuse(error, [credentials.scheme === 'DPoP' || error.dpopChallenge ? 'DPoP' : 'Bearer']);
  }
}
