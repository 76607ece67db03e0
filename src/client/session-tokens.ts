// The signed-in session's tokens: kept fresh, refreshed one request at a time, attached to calls.
//
// Refresh tokens rotate, and presenting a spent one is treated by the server as theft: the whole
// token family is revoked (SS-02). So concurrent callers that need a refresh share ONE request
// (`refreshTokens` is single-flight). The server forgives one thing: for a few seconds after a
// rotation (its reuse grace, 10 s by default) the spent token gets the same answer again. That is
// what a refresh whose answer never arrived (a dropped connection, a timeout, a proxy's 502)
// needs: it is retried with the SAME token, within `refreshRetryWindowMs` of the first attempt, so
// the retry lands inside the grace. Never an older token than the store holds: before each retry
// the store is read again, and tokens someone else stored meanwhile are taken as they are.
import { isTokenRejection, mayHaveLostAnswer, notSignedInError } from './errors.js';
import { authorizationOf, storedTokensFrom, tokenTypeOf, type StoredTokens, type TokenStore } from './token-store.js';
import type { ApiRequest, Transport } from './transport.js';
import type { StepUpTokenResponse, TokenResponse } from './types.js';

export interface SessionTokensOptions {
  transport: Transport;
  tokenStore: TokenStore;
  now: () => number;
  /** Refresh when the access token has less than this left. */
  refreshLeewaySeconds: number;
  /** How long one refresh attempt waits for its answer before it is retried; 0 waits as long as fetch does. */
  refreshAttemptTimeoutMs: number;
  /** Retries of a refresh start only this long after its first attempt began; 0 never retries. */
  refreshRetryWindowMs: number;
}

/** Pause before retry `attempt` (1, 2, …): 250 ms, doubling. */
const retryPauseMs = (attempt: number) => 250 * 2 ** (attempt - 1);
const sleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));
// The retry window runs on the monotonic clock, never on `now`, which apps and tests may move.
const monotonicNow = () => performance.now();

export interface SessionTokens {
  /** The stored tokens, or undefined when signed out. */
  current(): Promise<StoredTokens | undefined>;
  /** Stores the token response of a completed sign-in. */
  storeSignIn(response: TokenResponse): Promise<StoredTokens>;
  /** Stores a step-up's new access token; the refresh token stays the same. */
  storeStepUp(response: StepUpTokenResponse): Promise<StoredTokens>;
  /** Rotates the refresh token; concurrent callers share one request and get the same tokens. */
  refreshTokens(): Promise<StoredTokens>;
  /** The tokens, refreshed first when the access token is about to expire. */
  fresh(): Promise<StoredTokens>;
  /** Sends a request with the access token, refreshing before expiry and once after a token rejection. */
  sendAuthorized<T>(request: Omit<ApiRequest, 'authorization'>): Promise<T>;
  clear(): Promise<void>;
}

export function createSessionTokens(options: SessionTokensOptions): SessionTokens {
  const { transport, tokenStore, now } = options;
  let refreshInFlight: Promise<StoredTokens> | undefined;
  // Bumped by every sign-in and sign-out, so a refresh that was already on the wire cannot bring
  // back the tokens of a session the person has since left.
  let generation = 0;

  async function clear(): Promise<void> {
    generation += 1;
    await tokenStore.clear();
  }

  async function performRefresh(): Promise<StoredTokens> {
    const startedIn = generation;
    const sent = await tokenStore.get();
    if (sent === undefined) throw notSignedInError();
    const startedAt = monotonicNow();
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await transport.send<TokenResponse>({
          method: 'POST',
          path: '/v1/token/refresh',
          body: { refresh_token: sent.refreshToken },
          // A bound session's refresh token works only with a proof of the same key (DP-31).
          dpopProof: true,
          timeoutMs: options.refreshAttemptTimeoutMs,
        });
        return await adopt(sent, storedTokensFrom(response, now()), startedIn);
      } catch (error) {
        // The session is over (logged out, revoked, timed out): drop its tokens — unless the store
        // already holds a newer refresh token (another tab sharing the store rotated it meanwhile).
        if (isTokenRejection(error)) {
          if (generation === startedIn && (await tokenStore.get())?.refreshToken === sent.refreshToken) await clear();
          throw error;
        }
        if (!mayHaveLostAnswer(error)) throw error;
        // A retry after the window could reach the server after its grace, where the same token
        // is reuse and revokes the session: better to fail now and keep the tokens.
        const pauseMs = Math.max(retryPauseMs(attempt), (error.retryAfterSeconds ?? 0) * 1000);
        if (monotonicNow() + pauseMs - startedAt >= options.refreshRetryWindowMs) throw error;
        await sleep(pauseMs);
        if (generation !== startedIn) throw error;
        const current = await tokenStore.get();
        if (current === undefined) throw error;
        // Someone sharing the store rotated meanwhile: theirs is newer than the token we hold.
        if (current.refreshToken !== sent.refreshToken) return current;
      }
    }
  }

  /** Stores what a refresh of `sent` answered — only over `sent` itself, never over newer tokens. */
  async function adopt(sent: StoredTokens, refreshed: StoredTokens, startedIn: number): Promise<StoredTokens> {
    if (generation !== startedIn) return refreshed;
    const current = await tokenStore.get();
    if (current?.refreshToken === sent.refreshToken) await tokenStore.set(refreshed);
    return refreshed;
  }

  function refreshTokens(): Promise<StoredTokens> {
    refreshInFlight ??= performRefresh().finally(() => {
      refreshInFlight = undefined;
    });
    return refreshInFlight;
  }

  /** Tokens whose access token is not about to expire, refreshing first when it is. */
  async function freshTokens(): Promise<StoredTokens> {
    const tokens = await tokenStore.get();
    if (tokens === undefined) throw notSignedInError();
    if (tokens.expiresAtMs - options.refreshLeewaySeconds * 1000 > now()) return tokens;
    return refreshTokens();
  }

  async function sendAuthorized<T>(request: Omit<ApiRequest, 'authorization'>): Promise<T> {
    const tokens = await freshTokens();
    try {
      return await transport.send<T>({ ...request, authorization: authorizationOf(tokens) });
    } catch (error) {
      if (!isTokenRejection(error)) throw error;
      // The server gives one answer for an expired, revoked or unknown access token (it need not
      // say which), so the refresh endpoint decides: it succeeds only while the session lives.
      // Retrying is safe: the token is checked before a route reads its body, so the refused
      // request changed nothing. If another caller refreshed meanwhile, its tokens are used as is.
      const stored = await tokenStore.get();
      const retryTokens = stored !== undefined && stored.accessToken !== tokens.accessToken ? stored : await refreshTokens();
      return transport.send<T>({ ...request, authorization: authorizationOf(retryTokens) });
    }
  }

  return {
    current: async () => tokenStore.get(),
    async storeSignIn(response) {
      generation += 1;
      const tokens = storedTokensFrom(response, now());
      await tokenStore.set(tokens);
      return tokens;
    },
    async storeStepUp(response) {
      const stored = await tokenStore.get();
      if (stored === undefined) throw notSignedInError();
      const tokens = { ...stored, accessToken: response.access_token, tokenType: tokenTypeOf(response.token_type), expiresAtMs: now() + response.expires_in * 1000 };
      await tokenStore.set(tokens);
      return tokens;
    },
    refreshTokens,
    fresh: freshTokens,
    sendAuthorized,
    clear,
  };
}
