// One sign-in across parent domains (FA-57, FA-62) through app.inject: apps under twofold.test
// sign in at Twofold's public URL; apps under other.test at their own portal, auth.other.test,
// which hands the sign-in to the public origin and back with a one-time code. Each host is its
// own cookie jar (a PageBrowser with that Host), as in a browser. The attacks are in
// test/security/forward-auth-single-sign-on-attacks.test.ts; Chromium behind nginx in
// test/interop/forward-auth-domains.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announceRevokedSessions, revokeSessionsInDatabase } from '../../src/flows/sessions/revoke-sessions.js';
import { bearer, signIn, signUp, strongPassword, totpCode, type SignedUp } from '../helpers/flow.js';
import { ask, faCookie, handoffStateCookie, handoffToPortal, localOf, signInForApp, startForwardAuthTwofold } from '../helpers/forward-auth.js';
import { PageBrowser } from '../helpers/page-browser.js';
import type { TestTwofold } from '../helpers/twofold.js';

const rules = `
default: two_factor
rules:
  - hosts: ["*.other.test"]
    paths: ["/admin/**"]
    policy: two_factor
    max_age: 300
`;

let t: TestTwofold;
let a: SignedUp;
beforeAll(async () => {
  t = await startForwardAuthTwofold(rules);
  a = await signUp(t);
});
afterAll(async () => t?.close());

/** Signed in for app.twofold.test, then handed over to app.other.test: the other domain's cookie. */
async function signedInOnBothDomains(): Promise<{ primary: PageBrowser; portal: PageBrowser; cookie: string; otherCookie: string }> {
  const { b: primary, cookie } = await signInForApp(t, a, 'https://app.twofold.test/');
  const { portal, callbackUrl } = await handoffToPortal(t, primary, 'https://app.other.test/x');
  const callback = await portal.get(localOf(callbackUrl));
  expect(callback.statusCode, callback.body.slice(0, 300)).toBe(302);
  return { primary, portal, cookie, otherCookie: portal.cookies.get(faCookie)! };
}

describe('forward-auth: one sign-in across parent domains', () => {
  it('FA-57: signed in for twofold.test, an app on other.test needs no second sign-in: its portal hands over to the public origin and back, and gets its own cookie for the same session', async () => {
    const { b: primary, cookie } = await signInForApp(t, a, 'https://app.twofold.test/');
    // The proxy of app.other.test sends the browser to its domain's own portal.
    const asked = await ask(t, 'https://app.other.test/x?y=1');
    expect(asked.statusCode).toBe(302);
    expect(asked.headers.location).toBe(`http://auth.other.test/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.other.test/x?y=1')}`);
    const portal = new PageBrowser(t, { host: 'auth.other.test' });
    const start = await portal.get(localOf(asked.headers.location as string));
    expect(start.statusCode).toBe(303);
    // The state is bound to this browser on the portal: __Host- (Secure, Path=/, no Domain), HttpOnly, Lax, short-lived.
    const stateLine = ([] as string[]).concat(start.headers['set-cookie'] as string[] | string).find((line) => line.startsWith(`${handoffStateCookie}=`))!;
    expect(stateLine).toMatch(/; Path=\//);
    expect(stateLine).toMatch(/; Secure/);
    expect(stateLine).toMatch(/; HttpOnly/);
    expect(stateLine).toMatch(/; SameSite=Lax/);
    expect(stateLine).not.toMatch(/Domain=/i);
    expect(Number(/Max-Age=(\d+)/.exec(stateLine)![1])).toBeLessThanOrEqual(600);
    const state = portal.cookies.get(handoffStateCookie)!;
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(start.headers.location).toBe(`http://twofold.test/v1/forward-auth/sso?rd=${encodeURIComponent('https://app.other.test/x?y=1')}&state=${state}`);
    // The public origin knows the person: no sign-in page, a code straight back to the portal's callback.
    const issued = await primary.get(localOf(start.headers.location as string));
    expect(issued.statusCode).toBe(303);
    const callbackUrl = new URL(issued.headers.location as string);
    expect(callbackUrl.origin + callbackUrl.pathname).toBe('http://auth.other.test/v1/forward-auth/sso/callback');
    expect(callbackUrl.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(callbackUrl.searchParams.get('state')).toBe(state);
    expect(callbackUrl.searchParams.get('rd')).toBe('https://app.other.test/x?y=1');
    const callback = await portal.get(localOf(callbackUrl.href));
    expect(callback.statusCode, callback.body.slice(0, 300)).toBe(302);
    expect(callback.headers.location).toBe('https://app.other.test/x?y=1');
    const faLine = ([] as string[]).concat(callback.headers['set-cookie'] as string[] | string).find((line) => line.startsWith(`${faCookie}=`) && !/Max-Age=0/.test(line))!;
    expect(faLine).toMatch(/Domain=other\.test/);
    expect(portal.cookies.has(handoffStateCookie)).toBe(false);
    const otherCookie = portal.cookies.get(faCookie)!;
    expect(otherCookie).not.toBe(cookie);
    const passed = await ask(t, 'https://app.other.test/x?y=1', { cookie: otherCookie });
    expect(passed.statusCode, passed.body).toBe(200);
    expect(passed.headers['remote-user']).toBe(a.username);
    expect(passed.headers['remote-acr']).toBe('aal2');
    // The same Twofold session on both domains.
    const sid = (assertion: string) => JSON.parse(Buffer.from(assertion.split('.')[1]!, 'base64url').toString())['sid'] as string;
    const here = await ask(t, 'https://app.twofold.test/', { cookie });
    expect(sid(passed.headers['x-twofold-assertion'] as string)).toBe(sid(here.headers['x-twofold-assertion'] as string));
  });

  it('FA-57: without a session at the public origin, the handoff hops once on the same site (for its SameSite=Strict cookies), then signs in there and carries on to the other domain', async () => {
    const primary = new PageBrowser(t);
    const portal = new PageBrowser(t, { host: 'auth.other.test' });
    const start = await portal.get(`/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.other.test/')}`);
    const first = await primary.get(localOf(start.headers.location as string));
    expect(first.statusCode).toBe(200);
    const again = `${localOf(start.headers.location as string)}&hop=1`;
    expect(first.headers['refresh']).toBe(`0;url=${again}`);
    const hopped = await primary.get(again);
    expect(hopped.statusCode).toBe(303);
    expect(hopped.headers.location).toBe(`/sign-in?return_to=${encodeURIComponent(again)}`);
    await primary.get(hopped.headers.location as string);
    const password = await primary.post('/sign-in', { username: a.username, password: strongPassword });
    expect(password.headers.location).toBe('/sign-in/verify');
    t.clock.advanceSeconds(30);
    const verified = await primary.post('/sign-in/verify', { code: totpCode(t, a.secret) });
    expect(verified.headers.location).toBe(again);
    const issued = await primary.get(again);
    expect(issued.statusCode).toBe(303);
    const callback = await portal.get(localOf(issued.headers.location as string));
    expect(callback.statusCode, callback.body.slice(0, 300)).toBe(302);
    expect((await ask(t, 'https://app.other.test/', { cookie: portal.cookies.get(faCookie)! })).headers['remote-user']).toBe(a.username);
  });

  it('FA-57: a max_age rule on the other domain: the step-up happens at the public origin, then the code brings the person back', async () => {
    const { primary, portal, otherCookie } = await signedInOnBothDomains();
    expect((await ask(t, 'https://app.other.test/admin/x', { cookie: otherCookie })).statusCode).toBe(200);
    t.clock.advanceSeconds(301);
    const stale = await ask(t, 'https://app.other.test/admin/x', { cookie: otherCookie });
    expect(stale.statusCode).toBe(302);
    // The portal's sign-in (which hands over), not the portal's own step-up page: the session lives at the public origin.
    expect(stale.headers.location).toBe(`http://auth.other.test/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.other.test/admin/x')}`);
    const start = await portal.get(localOf(stale.headers.location as string));
    const atPrimary = await primary.get(localOf(start.headers.location as string));
    expect(atPrimary.statusCode).toBe(303);
    const stepUp = atPrimary.headers.location as string;
    expect(stepUp).toMatch(/^\/account\/verify\?next=%2Fv1%2Fforward-auth%2Fsso%3Frd%3D/);
    await primary.get(stepUp);
    t.clock.advanceSeconds(30);
    const next = new URLSearchParams(stepUp.slice(stepUp.indexOf('?') + 1)).get('next')!;
    const verified = await primary.post('/account/verify', { code: totpCode(t, a.secret), next });
    expect(verified.statusCode, verified.body.slice(0, 300)).toBe(303);
    const issued = await primary.get(verified.headers.location as string);
    expect(issued.statusCode).toBe(303);
    const callback = await portal.get(localOf(issued.headers.location as string));
    expect(callback.headers.location).toBe('https://app.other.test/admin/x');
    expect((await ask(t, 'https://app.other.test/admin/x', { cookie: portal.cookies.get(faCookie)! })).statusCode).toBe(200);
  });
});

describe('forward-auth: the handed-over cookie ends with its session', () => {
  it('FA-62: logging out at the public origin ends the other domain’s cookie too', async () => {
    const { primary, cookie, otherCookie } = await signedInOnBothDomains();
    expect((await ask(t, 'https://app.other.test/', { cookie: otherCookie })).statusCode).toBe(200);
    const out = await primary.post('/v1/forward-auth/logout', { rd: 'https://app.twofold.test/' });
    expect(out.statusCode).toBe(303);
    expect((await ask(t, 'https://app.twofold.test/', { cookie })).statusCode).toBe(302);
    expect((await ask(t, 'https://app.other.test/', { cookie: otherCookie })).statusCode).toBe(302);
  });

  it('FA-62: logging out at the other domain’s portal ends the session at the public origin too', async () => {
    const { portal, cookie, otherCookie } = await signedInOnBothDomains();
    const out = await portal.post('/v1/forward-auth/logout', { rd: 'https://app.other.test/' });
    expect(out.statusCode).toBe(303);
    expect((await ask(t, 'https://app.other.test/', { cookie: otherCookie })).statusCode).toBe(302);
    expect((await ask(t, 'https://app.twofold.test/', { cookie })).statusCode).toBe(302);
  });

  it('FA-62: "sign out everywhere" from another session ends the cookies on both domains', async () => {
    const { cookie, otherCookie } = await signedInOnBothDomains();
    const api = await signIn(t, a);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(api.accessToken) })).statusCode).toBe(200);
    expect((await ask(t, 'https://app.twofold.test/', { cookie })).statusCode).toBe(302);
    expect((await ask(t, 'https://app.other.test/', { cookie: otherCookie })).statusCode).toBe(302);
  });

  it('FA-62: a revoked session (as an administrator revokes it) ends the cookies on both domains', async () => {
    const { primary, cookie, otherCookie } = await signedInOnBothDomains();
    const revoked = await revokeSessionsInDatabase(t.ctx.db, [sessionOf(primary)], 'admin', t.clock.now());
    expect(revoked).toHaveLength(1);
    await announceRevokedSessions(t.ctx, revoked);
    expect((await ask(t, 'https://app.twofold.test/', { cookie })).statusCode).toBe(302);
    expect((await ask(t, 'https://app.other.test/', { cookie: otherCookie })).statusCode).toBe(302);
  });
});

/** The session id of a signed-in browser, from its access token's sid claim. */
function sessionOf(browser: PageBrowser): string {
  const claims = JSON.parse(Buffer.from(browser.accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string };
  return claims.sid;
}
