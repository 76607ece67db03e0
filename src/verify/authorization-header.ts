// The Authorization header of a resource request: `Bearer <token>` (RFC 6750 §2.1) or
// `DPoP <token>` (RFC 9449 §7.1). Schemes are case-insensitive; the credential is one token68;
// several headers, another scheme or anything else is unreadable — a refusal, never a throw.
import type { AuthenticationScheme } from './challenge.js';

export type PresentedCredentials = { kind: 'none' } | { kind: 'unreadable' } | { kind: 'token'; scheme: AuthenticationScheme; token: string };

const credentialsHeader = /^(Bearer|DPoP) +([A-Za-z0-9._~+/-]+=*) *$/i;

export function presentedCredentials(authorization: unknown): PresentedCredentials {
  if (authorization === undefined) return { kind: 'none' };
  if (typeof authorization !== 'string') return { kind: 'unreadable' };
  const match = credentialsHeader.exec(authorization);
  if (match === null) return { kind: 'unreadable' };
  return { kind: 'token', scheme: match[1]?.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] ?? '' };
}
