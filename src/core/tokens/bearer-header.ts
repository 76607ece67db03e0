// `Authorization: Bearer <token>` (RFC 6750 §2.1): the one place the header is read, for the
// server's routes and for twofold/verify alike. The scheme is case-insensitive; the credential is
// a single token68; several headers, another scheme or anything else is no token.

const bearerHeader = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

export function bearerTokenFrom(authorization: string | string[] | undefined): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  return bearerHeader.exec(authorization)?.[1];
}
