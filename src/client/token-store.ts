// Where the client keeps the signed-in session's tokens. The default keeps them in memory only:
// persisting a refresh token (localStorage, a file, the keychain) is the app's decision, made by
// passing its own TokenStore. Methods may be async, for stores backed by async storage.
import type { TokenResponse } from './types.js';

/** The tokens of a signed-in session. */
export interface StoredTokens {
  /** The RFC 9068 access token (JWT) for `Authorization: Bearer`. */
  accessToken: string;
  /** The opaque, rotating refresh token. Each one works once; the SDK replaces it on refresh. */
  refreshToken: string;
  /** When the access token expires, in milliseconds since the epoch, by the client's clock. */
  expiresAtMs: number;
}

/** Storage for the tokens: the SDK reads before each call and writes after sign-in, refresh and step-up. */
export interface TokenStore {
  get(): StoredTokens | undefined | Promise<StoredTokens | undefined>;
  set(tokens: StoredTokens): void | Promise<void>;
  clear(): void | Promise<void>;
}

/** A TokenStore that forgets everything when the page or process goes away. */
export function createMemoryTokenStore(initial?: StoredTokens): TokenStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set(next) {
      tokens = next;
    },
    clear() {
      tokens = undefined;
    },
  };
}

/** The expiry is taken from `expires_in` as received, so it never depends on the server's clock. */
export function storedTokensFrom(response: Pick<TokenResponse, 'access_token' | 'refresh_token' | 'expires_in'>, nowMs: number): StoredTokens {
  return { accessToken: response.access_token, refreshToken: response.refresh_token, expiresAtMs: nowMs + response.expires_in * 1000 };
}
