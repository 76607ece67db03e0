// DPoP (RFC 9449) in the resource server: a token bound to a key (`cnf.jkt`) is accepted only with
// a proof, made by that key for this very request (method and URL as the client addressed them),
// for this token (`ath`), fresh (`iat`), used once (`jti`, claimed in the replay store) and, when
// nonces are on, carrying a nonce this service issued. The proof is checked on every request:
// the verified-token cache saves the token's signature check, never this one.
//
// Stored: only the replay claims (per key and jti, as long as a proof's iat is accepted), in
// process by default or in Redis shared by every instance. Nonces are stateless (an HMAC of the
// time step), so every instance sharing the secret accepts every instance's nonce.
import { checkDpopProof, createDpopNonces, defaultDpopAlgs, dpopRefusalSentence, type DpopNonces, type DpopReplayStore } from '../core/dpop/index.js';
import { createMemoryDpopReplayStore } from './dpop-replay-stores.js';
import { VerificationError, invalidDpopProof, invalidToken, verifierUnavailable } from './errors.js';

export interface DpopNonceOptions {
  /** At least 32 random bytes, the same on every instance (else one instance's nonce fails on another). */
  secret: Uint8Array;
  /** A nonce is accepted in its window and the next one; default 60 s. */
  windowSeconds?: number;
  /** Proofs must carry a current nonce (else 401 use_dpop_nonce with a DPoP-Nonce header); default true. */
  required?: boolean;
}

export interface DpopVerifierOptions {
  /** Where each proof's jti is claimed once. Default: in this process only; give a shared one (createRedisDpopReplayStore) when several instances serve the API. */
  replay?: DpopReplayStore;
  /** Server-issued nonces (RFC 9449 §9): off by default. */
  nonce?: DpopNonceOptions;
  /** Accepted proof algorithms: ES256 and EdDSA (the default), or one of them. */
  algorithms?: string[];
  /** How old a proof's iat may be; default 60 s. */
  maxAgeSeconds?: number;
  /** How far ahead of this clock a proof's iat may be; default 5 s. */
  clockSkewSeconds?: number;
}

/** The request a proof must have been made for, and the proof (the DPoP header). */
export interface DpopRequest {
  /** The HTTP method, e.g. "GET". */
  method: string;
  /** The full URL as the client addressed it: behind a proxy, the public one. */
  url: string;
  /** The DPoP header's value; several headers (an array) are refused. */
  proof: string | string[] | undefined;
}

export interface DpopProofChecker {
  readonly algorithms: readonly string[];
  /** The nonce to send in DPoP-Nonce, when nonces are on. */
  currentNonce(): string | undefined;
  /** Throws a VerificationError (401 invalid_dpop_proof / use_dpop_nonce, 503 when the replay store fails). */
  check(token: string, boundJkt: string, request: DpopRequest): Promise<void>;
}

export function createDpopProofChecker(options: DpopVerifierOptions, now: () => number): DpopProofChecker {
  const algorithms = options.algorithms ?? [...defaultDpopAlgs];
  if (algorithms.length === 0 || algorithms.some((alg) => !defaultDpopAlgs.includes(alg))) {
    throw new TypeError(`createVerifier(): dpop.algorithms must be a non-empty subset of ${defaultDpopAlgs.join(', ')}`);
  }
  const replay = options.replay ?? createMemoryDpopReplayStore({ now });
  const nonces: DpopNonces | undefined =
    options.nonce === undefined ? undefined : createDpopNonces({ secret: Buffer.from(options.nonce.secret), windowSeconds: options.nonce.windowSeconds ?? 60, now });
  const nonceRequired = nonces !== undefined && options.nonce?.required !== false;

  return {
    algorithms,
    currentNonce: () => nonces?.issue(),
    async check(token, boundJkt, request) {
      if (typeof request.proof !== 'string') throw invalidDpopProof(request.proof === undefined ? 'A DPoP proof is required.' : 'Send exactly one DPoP proof.');
      let result: Awaited<ReturnType<typeof checkDpopProof>>;
      try {
        result = await checkDpopProof(request.proof, {
          method: request.method,
          url: request.url,
          now: now(),
          accessToken: token,
          replay,
          allowedAlgs: algorithms,
          ...(nonceRequired && nonces !== undefined ? { nonce: nonces } : {}),
          ...(options.maxAgeSeconds === undefined ? {} : { maxAgeSeconds: options.maxAgeSeconds }),
          ...(options.clockSkewSeconds === undefined ? {} : { clockSkewSeconds: options.clockSkewSeconds }),
        });
      } catch (error) {
        // Only the replay store throws (e.g. Redis down): the proof may be fine, so 503, not 401.
        throw verifierUnavailable(`The DPoP replay store failed: ${String(error)}`, error);
      }
      if (!result.ok) throw new VerificationError(result.error, dpopRefusalSentence(result.description));
      if (result.jkt !== boundJkt) throw invalidDpopProof('The DPoP proof is signed by another key than the token is bound to.');
    },
  };
}

/** The key a token is bound to, or undefined for a bearer token (any other `cnf` is refused). */
export function boundKeyThumbprint(claims: Record<string, unknown>): string | undefined {
  const cnf = claims['cnf'];
  if (cnf === undefined) return undefined;
  const jkt = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['jkt'] : undefined;
  if (typeof jkt !== 'string' || jkt.length === 0) throw invalidToken('The token is bound to a key this service cannot check.', { dpopChallenge: true });
  return jkt;
}

