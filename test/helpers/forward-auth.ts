// Forward-auth in app.inject tests: a Twofold with forward-auth on (apps under twofold.test, whose
// portal is Twofold's public URL, and under other.test, with its own portal), a proxy's
// sub-request as nginx or Caddy would send it, and a person signing in through the portal's pages.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { strongPassword, totpCode } from './flow.js';
import { PageBrowser } from './page-browser.js';
import { makeDataDir, startTestTwofold, type TestTwofold, type TestTwofoldOptions } from './twofold.js';

export const faCookie = '__Secure-twofold-fa';

export async function startForwardAuthTwofold(rules: string, env: Record<string, string> = {}, options: Pick<TestTwofoldOptions, 'logger'> = {}): Promise<TestTwofold & { rulesFile: string }> {
  const rulesDir = makeDataDir();
  const rulesFile = join(rulesDir, 'rules.yaml');
  writeFileSync(rulesFile, rules);
  const t = await startTestTwofold({
    ...options,
    env: {
      TWOFOLD_FORWARD_AUTH: 'on',
      TWOFOLD_FORWARD_AUTH_RULES: rulesFile,
      TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: 'twofold.test,other.test=http://auth.other.test',
      TWOFOLD_TRUSTED_PROXIES: '127.0.0.1',
      ...env,
    },
  });
  return Object.assign(t, { rulesFile });
}

export interface AskOptions {
  method?: string;
  cookie?: string;
  headers?: Record<string, string>;
  /** The TCP peer (default 127.0.0.1, the trusted proxy). */
  remoteAddress?: string;
  flavour?: 'caddy' | 'nginx';
}

/** The proxy's sub-request for `url`: nginx (X-Original-URL, /nginx) or Caddy (X-Forwarded-*). */
export function ask(t: TestTwofold, url: string, options: AskOptions = {}): Promise<LightMyRequestResponse> {
  const method = options.method ?? 'GET';
  const flavour = options.flavour ?? 'caddy';
  const parsed = /^(https?):\/\/([^/]+)(.*)$/.exec(url)!;
  const original =
    flavour === 'nginx'
      ? { 'x-original-url': url, 'x-original-method': method }
      : { 'x-forwarded-proto': parsed[1]!, 'x-forwarded-host': parsed[2]!, 'x-forwarded-uri': parsed[3] || '/', 'x-forwarded-method': method };
  return t.app.inject({
    method: 'GET',
    url: flavour === 'nginx' ? '/v1/forward-auth/nginx' : '/v1/forward-auth',
    remoteAddress: options.remoteAddress ?? '127.0.0.1',
    headers: { ...original, ...(options.cookie === undefined ? {} : { cookie: `${faCookie}=${options.cookie}` }), ...options.headers },
  });
}

/** A local path and query of an absolute URL on the portal (or the path as it is). */
export function localOf(location: string): string {
  return location.replace(/^https?:\/\/[^/]+/, '');
}

/**
 * Signs in through the portal for `rd` with password + TOTP, following the redirects as a browser
 * would, and returns the forward-auth cookie the callback set (and the browser, signed in).
 */
export async function signInForApp(t: TestTwofold, user: { username: string; secret: string }, rd: string, b = new PageBrowser(t)): Promise<{ b: PageBrowser; cookie: string }> {
  const start = await b.get(`/v1/forward-auth/sign-in?rd=${encodeURIComponent(rd)}`);
  expect(start.statusCode, start.body.slice(0, 300)).toBe(303);
  let location = start.headers.location as string;
  if (location.startsWith('/sign-in?')) {
    await b.get(location);
    const password = await b.post('/sign-in', { username: user.username, password: strongPassword });
    expect(password.headers.location).toBe('/sign-in/verify');
    t.clock.advanceSeconds(30);
    const verified = await b.post('/sign-in/verify', { code: totpCode(t, user.secret) });
    expect(verified.statusCode, verified.body.slice(0, 300)).toBe(303);
    location = verified.headers.location as string;
    expect(location, 'after the second factor').toMatch(/^\/v1\/forward-auth\/sign-in\?rd=/);
    const again = await b.get(location);
    expect(again.statusCode).toBe(303);
    location = again.headers.location as string;
  }
  expect(location.startsWith('/v1/forward-auth/callback?rd=')).toBe(true);
  const callback = await b.get(location);
  expect(callback.statusCode, callback.body.slice(0, 300)).toBe(302);
  expect(callback.headers.location).toBe(new URL(rd).href);
  const cookie = b.cookies.get(faCookie);
  expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { b, cookie: cookie! };
}

export const handoffStateCookie = '__Host-twofold-fa-state';

export interface Handoff {
  /** The same browser on the other domain's portal (its own cookie jar: the hosts share no cookies). */
  portal: PageBrowser;
  /** The public origin's redirect to the portal's callback, code and state in it. */
  callbackUrl: string;
}

/**
 * A browser signed in at the public origin (`primary`) asks for `rd` on a domain with a portal of
 * its own: the portal's sign-in sets the state cookie and hands over to the public origin, which
 * answers with the callback URL carrying a one-time code. The callback itself is left to the caller.
 */
export async function handoffToPortal(t: TestTwofold, primary: PageBrowser, rd: string, portalHost = 'auth.other.test', portal = new PageBrowser(t, { host: portalHost })): Promise<Handoff> {
  const start = await portal.get(`/v1/forward-auth/sign-in?rd=${encodeURIComponent(rd)}`);
  expect(start.statusCode, start.body.slice(0, 300)).toBe(303);
  const handoff = start.headers.location as string;
  expect(handoff).toMatch(/^http:\/\/twofold\.test\/v1\/forward-auth\/sso\?rd=[^&]+&state=[A-Za-z0-9_-]{43}$/);
  const issued = await primary.get(localOf(handoff));
  expect(issued.statusCode, issued.body.slice(0, 300)).toBe(303);
  const callbackUrl = issued.headers.location as string;
  expect(callbackUrl.startsWith(`http://${portalHost}/v1/forward-auth/sso/callback?code=`)).toBe(true);
  return { portal, callbackUrl };
}

/** The code of a callback URL. */
export function codeOf(callbackUrl: string): string {
  return new URL(callbackUrl).searchParams.get('code')!;
}
