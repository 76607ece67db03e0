// The Authorization header of Twofold's own routes: `Bearer <token>` (RFC 6750) or, for a
// DPoP-bound access token, `DPoP <token>` (RFC 9449 §7.1). Schemes are case-insensitive; the
// credential is one token68. With DPoP off only Bearer is a token.
import { authorizationTokenFrom, type AuthorizationScheme } from '../../core/tokens/bearer-header.js';

export type TokenScheme = AuthorizationScheme;

export interface PresentedToken {
  scheme: TokenScheme;
  token: string;
}

export function presentedTokenFrom(authorization: string | string[] | undefined, options: { dpop: boolean }): PresentedToken | undefined {
  const presented = authorizationTokenFrom(authorization);
  return presented?.scheme === 'dpop' && !options.dpop ? undefined : presented;
}
