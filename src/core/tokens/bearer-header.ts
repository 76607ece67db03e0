// The Authorization header: `Bearer <token>` (RFC 6750 §2.1) or, for a DPoP-bound access token,
// `DPoP <token>` (RFC 9449 §7.1) — the one place it is read, for the server's routes and for
// twofold/verify alike. Schemes are case-insensitive; the credential is a single token68; several
// headers, another scheme or anything else is no token.

export type AuthorizationScheme = 'bearer' | 'dpop';

const tokenHeader = /^(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*) *$/i;

export function authorizationTokenFrom(authorization: unknown): { scheme: AuthorizationScheme; token: string } | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = tokenHeader.exec(authorization);
  if (match === null) return undefined;
  return { scheme: match[1]?.toLowerCase() === 'dpop' ? 'dpop' : 'bearer', token: match[2] ?? '' };
}

export function bearerTokenFrom(authorization: string | string[] | undefined): string | undefined {
  const presented = authorizationTokenFrom(authorization);
  return presented?.scheme === 'bearer' ? presented.token : undefined;
}
