// CSRF protection for every form (double submit): a random token in a __Host- cookie and the same
// token in a hidden field; a POST whose field does not match the cookie is refused. SameSite=Strict
// already keeps other sites' requests from carrying the cookies; this covers the rest (older
// browsers, same-site subdomains), including login CSRF on the sign-in and sign-up forms.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../core/crypto/constant-time.js';
import { generateRandomBase64url } from '../core/crypto/random.js';
import { cookieNames, readCookie, setCookie, useCookieNow } from './cookies.js';
import { html, type SafeHtml } from './html.js';

const csrfLifetimeSeconds = 12 * 60 * 60;

/** The token for the forms of this page; issued (and set as a cookie) on the first page view. */
export function csrfTokenFor(request: FastifyRequest, reply: FastifyReply): string {
  const existing = readCookie(request, cookieNames.csrf);
  if (existing !== undefined && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = generateRandomBase64url(32);
  setCookie(reply, cookieNames.csrf, token, csrfLifetimeSeconds);
  // The page rendered now must use the new token too.
  useCookieNow(request, cookieNames.csrf, token);
  return token;
}

export function isValidCsrf(request: FastifyRequest, submitted: unknown): boolean {
  const expected = readCookie(request, cookieNames.csrf);
  return expected !== undefined && typeof submitted === 'string' && constantTimeEqual(expected, submitted);
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${token}">`;
}
