// createVerifier(): checks Twofold access tokens in any Node service.
//
// Cost model: a token seen before is answered from a bounded LRU keyed by the whole token string
// until its `exp` (a re-encoded or altered token is another key and is verified afresh), so a
// service pays one signature check per token, not per request. The revocation check and the
// route's requirements run on every call — they are what can change while a token lives.
//
// Failures toward clients are 401 only when the token is known to be bad; whenever the issuer could
// not be asked (keys, revocations) the answer is 503, because a 401 tells the client to drop a
// token that may be fine and sign the person out.
//
// DPoP (RFC 9449): a token bound to a key (`cnf`) is never accepted by verify() — that would let it
// work as a bearer token — only by verifyDpop() with a proof of that key for this request. The
// proof is checked on every call, cached token or not (see dpop.ts).
import { TokenError } from 'fast-jwt';
import { VerifiedTokenCache } from '../core/tokens/verified-token-cache.js';
import { decodeJwsHeader, hasCompactJwsShape, isCanonicalCompactJws } from '../core/tokens/token-shape.js';
import { isTwofoldAccessClaims, isTwofoldAssertionClaims, type TwofoldAccessClaims, type TwofoldAssertionClaims } from './claims.js';
import { defaultRevokedSessionsUri, discoverIssuerEndpoints, type IssuerEndpoints } from './discovery.js';
import { createWarningReporter } from './background-errors.js';
import { createDpopProofChecker, boundKeyThumbprint, type DpopRequest, type DpopVerifierOptions } from './dpop.js';
import { invalidToken, type VerificationError } from './errors.js';
import type { FetchFunction } from './http-json.js';
import { RemoteKeySet, type KeySetStats, type VerificationAlgorithm } from './key-set.js';
import { enforceAuthenticationRequirements, type AuthenticationRequirements } from './requirements.js';
import { RevocationFeed, type RevocationFeedStats } from './revocation-feed.js';

export interface RevocationOptions {
  /** The feed's URL; found through discovery when omitted. */
  url?: string;
  /** Time between polls; default 5 s. */
  intervalMs?: number;
  /**
   * How long the verifier keeps answering from its last list while polls fail; after that it
   * answers 503 until the feed answers again. Default 60 s; must exceed intervalMs.
   */
  maxStalenessMs?: number;
  /** Keep answering from the last list however old it gets (failures are still reported). Default false. */
  failOpen?: boolean;
}

export interface VerifierOptions {
  /** Twofold's public URL, exactly as in the tokens' `iss`. */
  issuer: string;
  /**
   * This service's audience, exactly as Twofold puts it in `aud` (TWOFOLD_ACCESS_TOKEN_AUDIENCE);
   * for tokenType 'assertion', the app's origin as people reach it through the proxy (https://app.example.com).
   */
  audience: string;
  /**
   * 'access' (default): Twofold access tokens (verify, verifyDpop). 'assertion': the forward-auth
   * X-Twofold-Assertion an app behind a proxy receives (verifyAssertion); each verifier accepts
   * its one kind only (the JWS typ differs).
   */
  tokenType?: 'access' | 'assertion';
  /** Found through `<issuer>/.well-known/openid-configuration` when omitted. */
  jwksUri?: string;
  /** Accepted signature algorithms; default both Twofold can sign with. */
  algorithms?: VerificationAlgorithm[];
  /** Revoked sessions, polled from the issuer (default every 5 s); `false` trusts tokens until `exp`. */
  revocations?: false | RevocationOptions;
  /** Seconds of clock difference tolerated for `exp`, `nbf` and `iat`; default 30. */
  clockToleranceSeconds?: number;
  /** Verified tokens kept (LRU); default 10,000. */
  cacheSize?: number;
  /**
   * After a JWKS fetch that did not publish the kid it was made for (a made-up kid): how long
   * unknown kids wait for the next fetch instead of causing one; default 1 s. Bounds the load
   * made-up kids put on the issuer, and the longest a token of a just-rotated key can be delayed.
   */
  jwksRefreshCooldownMs?: number;
  /** Keys are re-fetched in the background when older than this; default 5 min. */
  jwksMaxAgeMs?: number;
  /** Bound on every request to the issuer; default 5 s. */
  timeoutMs?: number;
  fetch?: FetchFunction;
  /** Milliseconds since the epoch; tests pass a controllable clock. */
  now?: () => number;
  /**
   * Every failure of the background work (key refreshes, revocation polls, the feed going stale).
   * `error.diagnostic` names the URL and the cause. Default: a process warning, at most once a
   * minute per distinct failure.
   */
  onBackgroundError?: (error: VerificationError) => void;
  /**
   * DPoP proofs for tokens bound to a key (RFC 9449): the replay store (default in this process;
   * use createRedisDpopReplayStore with several instances), server nonces, algorithms and time limits.
   */
  dpop?: DpopVerifierOptions;
}

export interface Verifier {
  /**
   * A token sent as Bearer: its claims, or a thrown VerificationError with a stable `code`. A token
   * bound to a DPoP key (`cnf`) is refused here (invalid_token): it needs verifyDpop() and its proof.
   */
  verify(token: string, requirements?: AuthenticationRequirements): Promise<TwofoldAccessClaims>;
  /**
   * A token sent as `Authorization: DPoP <token>`: its claims when it is bound to a key (`cnf.jkt`)
   * and `request.proof` is a valid proof of that key for this request and token; else a thrown
   * VerificationError (`invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`, …).
   */
  verifyDpop(token: string, request: DpopRequest, requirements?: AuthenticationRequirements): Promise<TwofoldAccessClaims>;
  /**
   * A forward-auth assertion (the X-Twofold-Assertion header, tokenType 'assertion'): its claims,
   * or a thrown VerificationError (invalid_token). Its session is checked against the revocation
   * feed like an access token's.
   */
  verifyAssertion(assertion: string, requirements?: AuthenticationRequirements): Promise<TwofoldAssertionClaims>;
  /** Proof algorithms accepted (the `algs` of a DPoP challenge). */
  readonly dpopAlgorithms: readonly string[];
  /** The DPoP-Nonce to send, when dpop.nonce is set. */
  dpopNonce(): string | undefined;
  /** Fetches keys and the revocation feed now, so the first request does not wait for them. */
  ready(): Promise<void>;
  /** Counters for metrics and tests. */
  stats(): VerifierStats;
  /** Stops polling. */
  close(): void;
}

export interface VerifierStats {
  /** Tokens whose signature was checked (cache misses). */
  signatureChecks: number;
  /** Tokens answered from the verified-token cache. */
  cacheHits: number;
  /** DPoP proofs checked (one per verifyDpop call that reached the proof). */
  dpopProofChecks: number;
  /** Same as keys.fetches. */
  jwksFetches: number;
  /** Same as revocations.polls. */
  revocationPolls: number;
  /** Same as revocations.revokedSessions. */
  revokedSessions: number;
  keys: KeySetStats;
  /** `enabled: false` (and zeros) with `revocations: false`. */
  revocations: RevocationFeedStats & { enabled: boolean };
}

const revocationsOff: RevocationFeedStats & { enabled: boolean } = Object.freeze({
  enabled: false,
  polls: 0,
  pages: 0,
  revokedSessions: 0,
  lastSuccessAt: null,
  lastError: null,
  consecutiveFailures: 0,
  failingClosed: false,
  issuerPagesWithCursor: null,
});

export function createVerifier(options: VerifierOptions): Verifier {
  if (!options.issuer || !options.audience) throw new TypeError('createVerifier() needs an issuer and an audience');
  const tokenType = options.tokenType ?? 'access';
  if (tokenType !== 'access' && tokenType !== 'assertion') throw new TypeError("createVerifier(): tokenType is 'access' or 'assertion'");
  const now = options.now ?? Date.now;
  const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  // close() cancels what is in flight, and a failure caused by closing is no failure to report.
  const closing = new AbortController();
  const fetchFunction: FetchFunction = (input, init) => baseFetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, closing.signal]) : closing.signal });
  const timeoutMs = options.timeoutMs ?? 5_000;
  const toleranceSeconds = options.clockToleranceSeconds ?? 30;
  const reportBackgroundError = options.onBackgroundError ?? createWarningReporter();
  const onBackgroundError = (error: VerificationError): void => {
    if (!closing.signal.aborted) reportBackgroundError(error);
  };
  const endpoints = memoizeUntilSuccess(async (): Promise<IssuerEndpoints> => {
    if (options.jwksUri !== undefined) return { jwksUri: options.jwksUri, revokedSessionsUri: defaultRevokedSessionsUri(options.issuer) };
    return discoverIssuerEndpoints(options.issuer, fetchFunction, timeoutMs);
  });
  const keys = new RemoteKeySet({
    jwksUri: async () => (await endpoints()).jwksUri,
    issuer: options.issuer,
    audience: options.audience,
    typ: tokenType === 'assertion' ? 'twofold-assertion+jwt' : 'at+jwt',
    algorithms: options.algorithms ?? ['EdDSA', 'ES256'],
    fetch: fetchFunction,
    timeoutMs,
    refreshCooldownMs: options.jwksRefreshCooldownMs ?? 1_000,
    maxAgeMs: options.jwksMaxAgeMs ?? 300_000,
    now,
    onBackgroundError,
  });
  const revocationOptions = options.revocations === false ? undefined : (options.revocations ?? {});
  const revocations = revocationOptions === undefined ? undefined : createRevocationFeed(revocationOptions);

  function createRevocationFeed(settings: RevocationOptions): RevocationFeed {
    const intervalMs = settings.intervalMs ?? 5_000;
    const maxStalenessMs = settings.maxStalenessMs ?? 60_000;
    if (!(maxStalenessMs > intervalMs)) throw new TypeError('createVerifier(): revocations.maxStalenessMs must exceed revocations.intervalMs');
    return new RevocationFeed({
      url: async () => settings.url ?? (await endpoints()).revokedSessionsUri,
      fetch: fetchFunction,
      intervalMs,
      timeoutMs,
      maxStalenessMs: settings.failOpen === true ? undefined : maxStalenessMs,
      now,
      onBackgroundError,
    });
  }
  const cache = new VerifiedTokenCache<TwofoldAccessClaims>(options.cacheSize ?? 10_000);
  const dpop = createDpopProofChecker(options.dpop ?? {}, now);
  let signatureChecks = 0;
  let cacheHits = 0;
  let dpopProofChecks = 0;

  async function verifySignatureAndClaims(token: string, nowSeconds: number): Promise<TwofoldAccessClaims> {
    const payload = await verifiedPayload(token);
    if (!isTwofoldAccessClaims(payload)) throw invalidToken('The token lacks the claims of a Twofold access token.');
    checkTimes(payload, nowSeconds);
    return payload;
  }

  function checkTimes(payload: { exp: number; iat: number; auth_time: number; [claim: string]: unknown }, nowSeconds: number): void {
    if (payload.exp + toleranceSeconds <= nowSeconds) throw invalidToken('The token has expired.');
    if (payload.iat > nowSeconds + toleranceSeconds || payload.auth_time > nowSeconds + toleranceSeconds) throw invalidToken('The token was issued in the future.');
    if (typeof payload['nbf'] === 'number' && payload['nbf'] > nowSeconds + toleranceSeconds) throw invalidToken('The token is not valid yet.');
  }

  /** The signature (with typ, iss and aud) checked; the payload still to be read. */
  async function verifiedPayload(token: string): Promise<Record<string, unknown>> {
    if (typeof token !== 'string' || token.length === 0) throw invalidToken('No token.');
    if (!hasCompactJwsShape(token) || !isCanonicalCompactJws(token)) throw invalidToken('The token is not a compact JWS.');
    const kid = headerKid(token);
    if (kid === undefined) throw invalidToken('The token names no signing key.');
    // Throws verifier_unavailable (503) when the issuer cannot be asked; undefined only when it was asked.
    const check = await keys.checkFor(kid);
    if (check === undefined) throw invalidToken('The token is signed with a key the issuer does not publish.');
    signatureChecks += 1;
    let payload: Record<string, unknown>;
    try {
      payload = check(token);
    } catch (error) {
      if (error instanceof TokenError) throw invalidToken(publicRefusals[error.code] ?? 'The token was refused.', { cause: error, diagnostic: `The token was refused: ${error.message}` });
      throw error;
    }
    return payload;
  }

  /** The signature and claims, from the cache when this exact token was checked before. */
  async function verifiedClaims(token: string, nowSeconds: number): Promise<TwofoldAccessClaims> {
    if (typeof token !== 'string' || token.length === 0) throw invalidToken('No token.');
    const cached = cache.get(token, nowSeconds, toleranceSeconds);
    if (cached !== undefined) {
      cacheHits += 1;
      return cached;
    }
    const claims = await verifySignatureAndClaims(token, nowSeconds);
    cache.set(token, claims);
    return claims;
  }

  /** What can change while a token lives: its session, and what this route demands. */
  async function enforceSessionAndRequirements(claims: TwofoldAccessClaims, requirements: AuthenticationRequirements, nowSeconds: number): Promise<void> {
    if (revocations !== undefined) {
      // A field read while the feed is fresh: a cached token then needs no await at all. Before
      // the first answer, or once the feed is older than maxStalenessMs, ready() answers 503.
      if (!revocations.isUsable) await revocations.ready();
      if (revocations.isRevoked(claims.sid)) throw invalidToken('The session of this token has ended.');
    }
    enforceAuthenticationRequirements(claims, requirements, nowSeconds);
  }

  const accessOnly = (method: string) => {
    if (tokenType !== 'access') throw new TypeError(`${method}() needs a verifier with tokenType 'access'; this one verifies forward-auth assertions (verifyAssertion)`);
  };

  return {
    async verifyAssertion(assertion, requirements = {}) {
      if (tokenType !== 'assertion') throw new TypeError("verifyAssertion() needs a verifier made with tokenType: 'assertion' and the app's origin as audience");
      const nowSeconds = Math.floor(now() / 1000);
      const payload = await verifiedPayload(assertion);
      if (!isTwofoldAssertionClaims(payload)) throw invalidToken('The assertion lacks the claims of a Twofold forward-auth assertion.');
      checkTimes(payload, nowSeconds);
      await enforceSessionAndRequirements(payload as unknown as TwofoldAccessClaims, requirements, nowSeconds);
      return payload;
    },
    async verify(token, requirements = {}) {
      accessOnly('verify');
      const nowSeconds = Math.floor(now() / 1000);
      const claims = await verifiedClaims(token, nowSeconds);
      if (boundKeyThumbprint(claims) !== undefined) throw invalidToken(boundTokenAsBearerMessage, { dpopChallenge: true });
      await enforceSessionAndRequirements(claims, requirements, nowSeconds);
      return claims;
    },
    async verifyDpop(token, request, requirements = {}) {
      accessOnly('verifyDpop');
      const nowSeconds = Math.floor(now() / 1000);
      const claims = await verifiedClaims(token, nowSeconds);
      const jkt = boundKeyThumbprint(claims);
      if (jkt === undefined) throw invalidToken('The token is not bound to a DPoP key: send it with the Bearer scheme.', { dpopChallenge: true });
      dpopProofChecks += 1;
      await dpop.check(token, jkt, request);
      await enforceSessionAndRequirements(claims, requirements, nowSeconds);
      return claims;
    },
    dpopAlgorithms: dpop.algorithms,
    dpopNonce: () => dpop.currentNonce(),
    async ready() {
      await Promise.all([keys.refresh(), revocations?.ready()]);
    },
    stats() {
      const revocationStats = revocations === undefined ? revocationsOff : { enabled: true, ...revocations.stats() };
      return {
        signatureChecks,
        cacheHits,
        dpopProofChecks,
        jwksFetches: keys.fetches,
        revocationPolls: revocationStats.polls,
        revokedSessions: revocationStats.revokedSessions,
        keys: keys.stats(),
        revocations: revocationStats,
      };
    },
    close() {
      closing.abort();
      revocations?.close();
    },
  };
}

const boundTokenAsBearerMessage = 'The token is bound to a DPoP key: send it with the DPoP scheme and a DPoP proof.';

/** Our words for fast-jwt's refusals: a client is never shown a library's own message (it goes to `diagnostic`). */
const publicRefusals: Partial<Record<string, string>> = {
  FAST_JWT_INVALID_SIGNATURE: 'The token signature is invalid.',
  FAST_JWT_MISSING_SIGNATURE: 'The token signature is invalid.',
  FAST_JWT_INVALID_TYPE: 'The token is not an access token.',
  FAST_JWT_INVALID_ALGORITHM: 'The token is signed with an algorithm this service does not accept.',
  FAST_JWT_INVALID_CLAIM_VALUE: 'The token was not issued for this service.',
  FAST_JWT_MISSING_REQUIRED_CLAIM: 'The token lacks a claim every access token has.',
};

function headerKid(token: string): string | undefined {
  const kid = decodeJwsHeader(token)?.['kid'];
  return typeof kid === 'string' && kid.length > 0 && kid.length <= 256 ? kid : undefined;
}

/** Caches a successful answer; a failure is retried on the next call. */
function memoizeUntilSuccess<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}


