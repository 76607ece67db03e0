// Where the client keeps the signed-in session's tokens. The default keeps them in memory only:
// persisting a refresh token (localStorage, a file, the keychain) is the app's decision, made by
// passing its own TokenStore. Methods may be async, for stores backed by async storage.
import type { TokenResponse } from './types.js';

/** The tokens of a signed-in session. */
export interface StoredTokens {
  /** The RFC 9068 access token (JWT) for the Authorization header. */
  accessToken: string;
  /**
   * "DPoP" when the server bound the access token to the client's DPoP key (token_type DPoP): it
   * is sent as `Authorization: DPoP …` with a proof. Absent (tokens stored before DPoP) means Bearer.
   */
  tokenType?: 'Bearer' | 'DPoP';
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
export function storedTokensFrom(response: Pick<TokenResponse, 'access_token' | 'token_type' | 'refresh_token' | 'expires_in'>, nowMs: number): StoredTokens {
  return { accessToken: response.access_token, tokenType: tokenTypeOf(response.token_type), refreshToken: response.refresh_token, expiresAtMs: nowMs + response.expires_in * 1000 };
}

/** token_type is case-insensitive (RFC 6749 §5.1). */
export function tokenTypeOf(tokenType: string | undefined): 'Bearer' | 'DPoP' {
  return tokenType?.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
}

/** How a request carries the access token: the DPoP scheme for a bound token, else Bearer. */
export function authorizationOf(tokens: StoredTokens): { scheme: 'Bearer' | 'DPoP'; token: string } {
  return { scheme: tokens.tokenType === 'DPoP' ? 'DPoP' : 'Bearer', token: tokens.accessToken };
}
