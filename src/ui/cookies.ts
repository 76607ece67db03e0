// The hosted pages keep the same tokens the API hands out, in __Host- cookies: HttpOnly (no script
// can read them), Secure, SameSite=Strict (never sent on a request another site starts), path /
// and no Domain (this host only). Browsers accept Secure cookies from http://localhost too.
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const cookieNames = {
  /** The mfa_token between the password step and the second factor. */
  pending: '__Host-twofold-pending',
  access: '__Host-twofold-access',
  refresh: '__Host-twofold-refresh',
  csrf: '__Host-twofold-csrf',
  /** Where to go after signing in (an allow-listed return_to). */
  returnTo: '__Host-twofold-return',
  /** A remembered browser ("trust this device"). */
  device: '__Host-twofold-device',
} as const;

type CookieName = (typeof cookieNames)[keyof typeof cookieNames];

export function readCookie(request: FastifyRequest, name: CookieName): string | undefined {
  const value = request.cookies[name];
  return value === undefined || value === '' ? undefined : value;
}

export function setCookie(reply: FastifyReply, name: CookieName, value: string, maxAgeSeconds: number): void {
  reply.setCookie(name, value, { path: '/', httpOnly: true, secure: true, sameSite: 'strict', maxAge: maxAgeSeconds });
}

export function clearCookie(reply: FastifyReply, name: CookieName): void {
  reply.clearCookie(name, { path: '/', httpOnly: true, secure: true, sameSite: 'strict' });
}
