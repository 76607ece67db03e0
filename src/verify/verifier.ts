// createVerifier(): checks Twofold access tokens in any Node service.
//
// Cost model: a token seen before is answered from a bounded LRU keyed by the whole token string
// until its `exp` (a re-encoded or altered token is another key and is verified afresh), so a
// service pays one signature check per token, not per request. The revocation check and the
// route's requirements run on every call — they are what can change while a token lives.
import { TokenError } from 'fast-jwt';
import { VerifiedTokenCache } from '../core/tokens/verified-token-cache.js';
import { decodeJwsHeader, hasCompactJwsShape, isCanonicalCompactJws } from '../core/tokens/token-shape.js';
import { isTwofoldAccessClaims, type TwofoldAccessClaims } from './claims.js';
import { defaultRevokedSessionsUri, discoverIssuerEndpoints, type IssuerEndpoints } from './discovery.js';
import { invalidToken } from './errors.js';
import type { FetchFunction } from './http-json.js';
import { RemoteKeySet, type VerificationAlgorithm } from './key-set.js';
import { enforceAuthenticationRequirements, type AuthenticationRequirements } from './requirements.js';
import { RevocationFeed } from './revocation-feed.js';

export interface VerifierOptions {
  /** Twofold's public URL, exactly as in the tokens' `iss`. */
  issuer: string;
  /** This service's audience, exactly as Twofold puts it in `aud` (TWOFOLD_ACCESS_TOKEN_AUDIENCE). */
  audience: string;
  /** Found through `<issuer>/.well-known/openid-configuration` when omitted. */
  jwksUri?: string;
  /** Accepted signature algorithms; default both Twofold can sign with. */
  algorithms?: VerificationAlgorithm[];
  /** Revoked sessions, polled from the issuer (default every 5 s); `false` trusts tokens until `exp`. */
  revocations?: false | { url?: string; intervalMs?: number };
  /** Seconds of clock difference tolerated for `exp`, `nbf` and `iat`; default 30. */
  clockToleranceSeconds?: number;
  /** Verified tokens kept (LRU); default 10,000. */
  cacheSize?: number;
  /** Least time between two JWKS fetches caused by unknown kids; default 10 s. */
  jwksRefreshCooldownMs?: number;
  /** Keys are re-fetched in the background when older than this; default 5 min. */
  jwksMaxAgeMs?: number;
  /** Bound on every request to the issuer; default 5 s. */
  timeoutMs?: number;
  fetch?: FetchFunction;
  /** Milliseconds since the epoch; tests pass a controllable clock. */
  now?: () => number;
  /** Failures of background refreshes (keys, revocations); requests keep using what is known. */
  onBackgroundError?: (error: unknown) => void;
}

export interface Verifier {
  /** The token's claims, or a thrown VerificationError with a stable `code`. */
  verify(token: string, requirements?: AuthenticationRequirements): Promise<TwofoldAccessClaims>;
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
  jwksFetches: number;
  revocationPolls: number;
  /** Sessions currently known to be revoked. */
  revokedSessions: number;
}

export function createVerifier(options: VerifierOptions): Verifier {
  if (!options.issuer || !options.audience) throw new TypeError('createVerifier() needs an issuer and an audience');
  const now = options.now ?? Date.now;
  const fetchFunction = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const toleranceSeconds = options.clockToleranceSeconds ?? 30;
  const onBackgroundError = options.onBackgroundError ?? (() => {});
  const endpoints = memoizeUntilSuccess(async (): Promise<IssuerEndpoints> => {
    if (options.jwksUri !== undefined) return { jwksUri: options.jwksUri, revokedSessionsUri: defaultRevokedSessionsUri(options.issuer) };
    return discoverIssuerEndpoints(options.issuer, fetchFunction, timeoutMs);
  });
  const keys = new RemoteKeySet({
    jwksUri: async () => (await endpoints()).jwksUri,
    issuer: options.issuer,
    audience: options.audience,
    algorithms: options.algorithms ?? ['EdDSA', 'ES256'],
    fetch: fetchFunction,
    timeoutMs,
    refreshCooldownMs: options.jwksRefreshCooldownMs ?? 10_000,
    maxAgeMs: options.jwksMaxAgeMs ?? 300_000,
    now,
    onBackgroundError,
  });
  const revocationOptions = options.revocations === false ? undefined : (options.revocations ?? {});
  const revocations =
    revocationOptions === undefined
      ? undefined
      : new RevocationFeed({
          url: async () => revocationOptions.url ?? (await endpoints()).revokedSessionsUri,
          fetch: fetchFunction,
          intervalMs: revocationOptions.intervalMs ?? 5_000,
          timeoutMs,
          now,
          onBackgroundError,
        });
  const cache = new VerifiedTokenCache<TwofoldAccessClaims>(options.cacheSize ?? 10_000);
  let signatureChecks = 0;
  let cacheHits = 0;

  async function verifySignatureAndClaims(token: string, nowSeconds: number): Promise<TwofoldAccessClaims> {
    if (!hasCompactJwsShape(token) || !isCanonicalCompactJws(token)) throw invalidToken('The token is not a compact JWS.');
    const kid = headerKid(token);
    if (kid === undefined) throw invalidToken('The token names no signing key.');
    const check = await keys.checkFor(kid);
    if (check === undefined) throw invalidToken('The token is signed with a key the issuer does not publish.');
    signatureChecks += 1;
    let payload: Record<string, unknown>;
    try {
      payload = check(token);
    } catch (error) {
      if (error instanceof TokenError) throw invalidToken(`The token was refused: ${error.message}`, error);
      throw error;
    }
    if (!isTwofoldAccessClaims(payload)) throw invalidToken('The token lacks the claims of a Twofold access token.');
    if (payload.exp + toleranceSeconds <= nowSeconds) throw invalidToken('The token has expired.');
    if (payload.iat > nowSeconds + toleranceSeconds || payload.auth_time > nowSeconds + toleranceSeconds) throw invalidToken('The token was issued in the future.');
    if (typeof payload['nbf'] === 'number' && payload['nbf'] > nowSeconds + toleranceSeconds) throw invalidToken('The token is not valid yet.');
    return payload;
  }

  return {
    async verify(token, requirements = {}) {
      const nowSeconds = Math.floor(now() / 1000);
      if (typeof token !== 'string' || token.length === 0) throw invalidToken('No token.');
      let claims = cache.get(token, nowSeconds, toleranceSeconds);
      if (claims === undefined) {
        claims = await verifySignatureAndClaims(token, nowSeconds);
        cache.set(token, claims);
      } else {
        cacheHits += 1;
      }
      if (revocations !== undefined) {
        // Awaited only until the first answer: a cached token then needs no await at all.
        if (!revocations.isReady) await revocations.ready();
        if (revocations.isRevoked(claims.sid)) throw invalidToken('The session of this token has ended.');
      }
      enforceAuthenticationRequirements(claims, requirements, nowSeconds);
      return claims;
    },
    async ready() {
      await Promise.all([keys.refresh(), revocations?.ready()]);
    },
    stats() {
      return { signatureChecks, cacheHits, jwksFetches: keys.fetches, revocationPolls: revocations?.polls ?? 0, revokedSessions: revocations?.size ?? 0 };
    },
    close() {
      revocations?.close();
    },
  };
}

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


