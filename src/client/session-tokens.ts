// The signed-in session's tokens: kept fresh, refreshed one request at a time, attached to calls.
//
// Refresh tokens rotate, and presenting a spent one is treated by the server as theft: the whole
// token family is revoked (SS-02). So concurrent callers that need a refresh must share ONE
// request; a second, parallel refresh would present the same refresh token twice and sign the
// person out. Everything here that refreshes goes through `refreshTokens`, which is single-flight.
import { isTokenRejection, notSignedInError } from './errors.js';
import { storedTokensFrom, type StoredTokens, type TokenStore } from './token-store.js';
import type { ApiRequest, Transport } from './transport.js';
import type { StepUpTokenResponse, TokenResponse } from './types.js';

export interface SessionTokensOptions {
  transport: Transport;
  tokenStore: TokenStore;
  now: () => number;
  /** Refresh when the access token has less than this left. */
  refreshLeewaySeconds: number;
}

export interface SessionTokens {
  /** The stored tokens, or undefined when signed out. */
  current(): Promise<StoredTokens | undefined>;
  /** Stores the token response of a completed sign-in. */
  storeSignIn(response: TokenResponse): Promise<StoredTokens>;
  /** Stores a step-up's new access token; the refresh token stays the same. */
  storeStepUp(response: StepUpTokenResponse): Promise<StoredTokens>;
  /** Rotates the refresh token; concurrent callers share one request and get the same tokens. */
  refreshTokens(): Promise<StoredTokens>;
  /** Sends a request with the access token, refreshing before expiry and once after a token rejection. */
  sendAuthorized<T>(request: Omit<ApiRequest, 'bearerToken'>): Promise<T>;
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
    const tokens = await tokenStore.get();
    if (tokens === undefined) throw notSignedInError();
    try {
      const response = await transport.send<TokenResponse>({ method: 'POST', path: '/v1/token/refresh', body: { refresh_token: tokens.refreshToken } });
      const refreshed = storedTokensFrom(response, now());
      if (generation === startedIn) await tokenStore.set(refreshed);
      return refreshed;
    } catch (error) {
      // The session is over (logged out, revoked, timed out): drop its tokens — unless the store
      // already holds a newer refresh token (another tab sharing the store rotated it meanwhile).
      if (isTokenRejection(error) && generation === startedIn && (await tokenStore.get())?.refreshToken === tokens.refreshToken) await clear();
      throw error;
    }
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

  async function sendAuthorized<T>(request: Omit<ApiRequest, 'bearerToken'>): Promise<T> {
    const tokens = await freshTokens();
    try {
      return await transport.send<T>({ ...request, bearerToken: tokens.accessToken });
    } catch (error) {
      if (!isTokenRejection(error)) throw error;
      // The server gives one answer for an expired, revoked or unknown access token (it need not
      // say which), so the refresh endpoint decides: it succeeds only while the session lives.
      // Retrying is safe: the token is checked before a route reads its body, so the refused
      // request changed nothing. If another caller refreshed meanwhile, its tokens are used as is.
      const stored = await tokenStore.get();
      const retryTokens = stored !== undefined && stored.accessToken !== tokens.accessToken ? stored : await refreshTokens();
      return transport.send<T>({ ...request, bearerToken: retryTokens.accessToken });
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
      const tokens = { ...stored, accessToken: response.access_token, expiresAtMs: now() + response.expires_in * 1000 };
      await tokenStore.set(tokens);
      return tokens;
    },
    refreshTokens,
    sendAuthorized,
    clear,
  };
}
