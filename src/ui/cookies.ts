// The hosted pages keep the same tokens the API hands out, in __Host- cookies: HttpOnly (no script
// can read them), Secure, SameSite=Strict (never sent on a request another site starts), path /
// and no Domain (this host only). Browsers accept Secure cookies from http://localhost too.
//
// Read and written here, with the `cookie` library, and not through @fastify/cookie's decorators:
// an app that mounts Twofold may have registered @fastify/cookie itself (its decorators would
// clash with a second registration) with options of its own — a parsing hook that runs after our
// CSRF check or not at all, parse options that add a Domain (which voids a __Host- cookie). The
// pages' cookies follow Twofold's rules whatever the host registered.
import { parseCookie, stringifySetCookie, type SetCookie } from 'cookie';
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

const hostCookie = { path: '/', httpOnly: true, secure: true, sameSite: 'strict' } as const satisfies Omit<SetCookie, 'name' | 'value'>;
const parsedCookies = new WeakMap<FastifyRequest, Record<string, string | undefined>>();

function cookiesOf(request: FastifyRequest): Record<string, string | undefined> {
  let cookies = parsedCookies.get(request);
  if (cookies === undefined) {
    const header = request.headers.cookie;
    cookies = header === undefined ? {} : parseCookie(header);
    parsedCookies.set(request, cookies);
  }
  return cookies;
}

export function readCookie(request: FastifyRequest, name: CookieName): string | undefined {
  const value = cookiesOf(request)[name];
  return value === undefined || value === '' ? undefined : value;
}

/** A cookie set in this answer that the rest of this request should read too (a new CSRF token). */
export function useCookieNow(request: FastifyRequest, name: CookieName, value: string): void {
  cookiesOf(request)[name] = value;
}

/** One Set-Cookie per name: a later call for the same cookie replaces the earlier one. */
function writeSetCookie(reply: FastifyReply, name: CookieName, header: string): void {
  const existing = reply.getHeader('set-cookie');
  const others = (existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]).map(String).filter((line) => !line.startsWith(`${name}=`));
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', [...others, header]);
}

export function setCookie(reply: FastifyReply, name: CookieName, value: string, maxAgeSeconds: number): void {
  writeSetCookie(reply, name, stringifySetCookie({ name, value, ...hostCookie, maxAge: maxAgeSeconds }));
}

/** The Set-Cookie line that deletes the cookie (also for an answer that is not Fastify's: the OpenID Provider's logout). */
export function clearingSetCookie(name: CookieName): string {
  return stringifySetCookie({ name, value: '', ...hostCookie, maxAge: 0, expires: new Date(0) });
}

export function clearCookie(reply: FastifyReply, name: CookieName): void {
  writeSetCookie(reply, name, clearingSetCookie(name));
}
