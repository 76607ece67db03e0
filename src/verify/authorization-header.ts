// The Authorization header of a resource request: `Bearer <token>` (RFC 6750 §2.1) or
// `DPoP <token>` (RFC 9449 §7.1). Schemes are case-insensitive; the credential is one token68;
// several headers, another scheme or anything else is unreadable — a refusal, never a throw.
import { authorizationTokenFrom } from '../core/tokens/bearer-header.js';
import type { AuthenticationScheme } from './challenge.js';

export type PresentedCredentials = { kind: 'none' } | { kind: 'unreadable' } | { kind: 'token'; scheme: AuthenticationScheme; token: string };

export function presentedCredentials(authorization: unknown): PresentedCredentials {
  if (authorization === undefined) return { kind: 'none' };
  const presented = authorizationTokenFrom(authorization);
  if (presented === undefined) return { kind: 'unreadable' };
  return { kind: 'token', scheme: presented.scheme === 'dpop' ? 'DPoP' : 'Bearer', token: presented.token };
}
