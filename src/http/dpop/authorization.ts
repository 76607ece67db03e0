// The Authorization header of Twofold's own routes: `Bearer <token>` (RFC 6750) or, for a
// DPoP-bound access token, `DPoP <token>` (RFC 9449 §7.1). Schemes are case-insensitive; the
// credential is one token68. With DPoP off only Bearer is a token.
import { bearerTokenFrom } from '../../core/tokens/bearer-header.js';

export type TokenScheme = 'bearer' | 'dpop';

export interface PresentedToken {
  scheme: TokenScheme;
  token: string;
}

const dpopHeader = /^DPoP +([A-Za-z0-9._~+/-]+=*) *$/i;

export function presentedTokenFrom(authorization: string | string[] | undefined, options: { dpop: boolean }): PresentedToken | undefined {
  const bearer = bearerTokenFrom(authorization);
  if (bearer !== undefined) return { scheme: 'bearer', token: bearer };
  if (!options.dpop || typeof authorization !== 'string') return undefined;
  const token = dpopHeader.exec(authorization)?.[1];
  return token === undefined ? undefined : { scheme: 'dpop', token };
}
