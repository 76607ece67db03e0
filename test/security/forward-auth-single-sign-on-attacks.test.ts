// Attacks on forward-auth's sign-in handoff between parent domains (FA-58..FA-64), each refused
// with a stable status and never a 500: a code replayed (also 20 at once, and across two
// instances on one PostgreSQL and one Redis), a code for one domain presented at another, a
// callback without this browser's state (login CSRF), an expired code, a code whose session was
// revoked meanwhile, hostile rd and hosts, and the code or state in the log.
import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/http/logger.js';
import { testSharedState } from '../helpers/backend.js';
import { bearer, signIn, signUp, type SignedUp } from '../helpers/flow.js';
import { ask, codeOf, faCookie, handoffStateCookie, handoffToPortal, localOf, signInForApp, startForwardAuthTwofold } from '../helpers/forward-auth.js';
import { PageBrowser } from '../helpers/page-browser.js';
import type { TestTwofold } from '../helpers/twofold.js';

const domainsWithPortals = 'twofold.test,other.test=http://auth.other.test,third.test=http://auth.third.test';

let t: TestTwofold;
let user: SignedUp;
const logLines: string[] = [];
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logLines.push(String(chunk));
      callback();
    },
  });
  t = await startForwardAuthTwofold('default: two_factor\n', { TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: domainsWithPortals }, { logger: createLogger({ log: { level: 'trace' } }, sink) });
  user = await signUp(t);
});
afterAll(async () => t?.close());

/** What the error page says for each refusal (the hosted pages show the problem's detail). */
const reasons: Record<string, RegExp> = {
  invalid_code: /The sign-in code is wrong, expired, already used or for another domain/,
  invalid_token: /The session this sign-in came from has ended/,
  invalid_request: /refused|must be given once|malformed|ends at/,
  /** invalid_request, for a state that is not this browser's. */
  state_mismatch: /This sign-in was not started in this browser/,
};

/** A refusal: the status, no redirect anywhere, no forward-auth cookie set, and the error's reason on the page. */
function expectRefused(response: LightMyRequestResponse, status: number, code: keyof typeof reasons): void {
  expect(response.statusCode, response.body.slice(0, 300)).toBe(status);
  expect(response.headers.location).toBeUndefined();
  const cookies = ([] as string[]).concat((response.headers['set-cookie'] as string[] | string | undefined) ?? []);
  expect(cookies.filter((line) => line.startsWith(`${faCookie}=`) && !/Max-Age=0/i.test(line))).toEqual([]);
  expect(response.body).toMatch(reasons[code]!);
}

/** A browser signed in at the public origin. */
async function signedIn(): Promise<PageBrowser> {
  return (await signInForApp(t, user, 'https://app.twofold.test/')).b;
}

describe('forward-auth handoff: a code is single use', () => {
  it('FA-58: a code used once is refused the second time, even with the state cookie put back', async () => {
    const { portal, callbackUrl } = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
    const state = portal.cookies.get(handoffStateCookie)!;
    expect((await portal.get(localOf(callbackUrl))).statusCode).toBe(302);
    portal.cookies.set(handoffStateCookie, state);
    expectRefused(await portal.get(localOf(callbackUrl)), 401, 'invalid_code');
  });

  it('FA-58: 20 parallel callbacks with one code: exactly one sets a cookie', async () => {
    const { portal, callbackUrl } = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
    const responses = await Promise.all(Array.from({ length: 20 }, () => portal.get(localOf(callbackUrl))));
    expect(responses.filter((response) => response.statusCode === 302)).toHaveLength(1);
    expect(responses.filter((response) => response.statusCode === 401)).toHaveLength(19);
  });
});

describe('forward-auth handoff: a code is for one domain, one browser, one minute, a live session', () => {
  it('FA-59: a code issued for other.test is refused at third.test’s callback (and is spent there)', async () => {
    const { portal, callbackUrl } = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
    const code = codeOf(callbackUrl);
    const state = portal.cookies.get(handoffStateCookie)!;
    // The attacker's own browser at third.test, with a state cookie matching the URL.
    const third = new PageBrowser(t, { host: 'auth.third.test' });
    third.cookies.set(handoffStateCookie, state);
    expectRefused(await third.get(`/v1/forward-auth/sso/callback?code=${code}&state=${state}&rd=${encodeURIComponent('https://app.third.test/')}`), 401, 'invalid_code');
    expectRefused(await portal.get(localOf(callbackUrl)), 401, 'invalid_code');
  });

  it('FA-59: a callback on a host that is not the rd domain’s portal is refused before the code is read', async () => {
    const { portal, callbackUrl } = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
    const state = portal.cookies.get(handoffStateCookie)!;
    const third = new PageBrowser(t, { host: 'auth.third.test' });
    third.cookies.set(handoffStateCookie, state);
    expectRefused(await third.get(localOf(callbackUrl)), 400, 'invalid_request');
    // Not spent: the right portal still takes it.
    expect((await portal.get(localOf(callbackUrl))).statusCode).toBe(302);
  });

  it('FA-60: a callback without the state cookie, or with another state, is refused (login CSRF) and spends the code', async () => {
    // The attacker's code (their own session), planted in the victim's browser, which started no handoff.
    const attacker = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
    const victim = new PageBrowser(t, { host: 'auth.other.test' });
    expectRefused(await victim.get(localOf(attacker.callbackUrl)), 400, 'state_mismatch');
    expect(victim.cookies.has(faCookie)).toBe(false);
    // Spent by the refusal: the attacker's own browser cannot use it afterwards either.
    expectRefused(await attacker.portal.get(localOf(attacker.callbackUrl)), 401, 'invalid_code');

    // The victim started a handoff of their own (state V): the attacker's code with state A is refused;
    // with the victim's state V in the URL it is refused too (the code is bound to A).
    const next = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
    const victimBrowser = new PageBrowser(t, { host: 'auth.other.test' });
    await victimBrowser.get(`/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.other.test/')}`);
    const victimState = victimBrowser.cookies.get(handoffStateCookie)!;
    expect(victimState).not.toBe(next.portal.cookies.get(handoffStateCookie));
    expectRefused(await victimBrowser.get(localOf(next.callbackUrl)), 400, 'state_mismatch');
    const other = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
    const swapped = new URL(other.callbackUrl);
    swapped.searchParams.set('state', victimState);
    victimBrowser.cookies.set(handoffStateCookie, victimState);
    expectRefused(await victimBrowser.get(localOf(swapped.href)), 401, 'invalid_code');
    // A malformed or repeated state is a bad request.
    victimBrowser.cookies.set(handoffStateCookie, victimState);
    expectRefused(await victimBrowser.get(`${localOf(other.callbackUrl)}&state=${victimState}`), 400, 'invalid_request');
  });

  it('FA-61: a code older than 60 seconds is refused', async () => {
    const { portal, callbackUrl } = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
    t.clock.advanceSeconds(61);
    expectRefused(await portal.get(localOf(callbackUrl)), 401, 'invalid_code');
    // Within the minute it is taken.
    const fresh = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
    t.clock.advanceSeconds(59);
    expect((await fresh.portal.get(localOf(fresh.callbackUrl))).statusCode).toBe(302);
  });

  it('FA-62: a code whose session was ended meanwhile ("sign out everywhere") is refused and sets no cookie', async () => {
    const { portal, callbackUrl } = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
    const api = await signIn(t, user);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(api.accessToken) })).statusCode).toBe(200);
    expectRefused(await portal.get(localOf(callbackUrl)), 401, 'invalid_token');
    expect(portal.cookies.has(faCookie)).toBe(false);
  });
});

describe('forward-auth handoff: where it may send a browser', () => {
  const hostile = ['https://evil.example/', '//evil.example/', 'javascript:alert(1)', 'https://app.other.test@evil.example/', 'https://other.test.evil.example/', 'https:\\\\evil.example', ''];

  it('FA-63: the public origin’s handoff refuses every rd outside the domains with their own portals, a malformed state, a repeated parameter — 400, redirecting nowhere', async () => {
    const b = await signedIn();
    const state = 'A'.repeat(43);
    for (const rd of [...hostile, 'https://app.twofold.test/']) {
      expectRefused(await b.get(`/v1/forward-auth/sso?rd=${encodeURIComponent(rd)}&state=${state}`), 400, 'invalid_request');
    }
    for (const query of [`rd=${encodeURIComponent('https://app.other.test/')}&state=short`, `rd=${encodeURIComponent('https://app.other.test/')}`, `rd=${encodeURIComponent('https://app.other.test/')}&rd=${encodeURIComponent('https://evil.example/')}&state=${state}`]) {
      expectRefused(await b.get(`/v1/forward-auth/sso?${query}`), 400, 'invalid_request');
    }
  });

  it('FA-63: the code goes only to the configured portal of rd’s domain, whatever the request’s Host or parameters say', async () => {
    const b = new PageBrowser(t, { host: 'evil.example' });
    const signedInPrimary = await signedIn();
    for (const [name, value] of signedInPrimary.cookies) b.cookies.set(name, value);
    const issued = await b.get(`/v1/forward-auth/sso?rd=${encodeURIComponent('https://deep.app.third.test/p?q=1')}&state=${'B'.repeat(43)}&portal=https://evil.example`);
    expect(issued.statusCode).toBe(303);
    expect((issued.headers.location as string).startsWith('http://auth.third.test/v1/forward-auth/sso/callback?code=')).toBe(true);
  });

  it('FA-63: the portal’s callback refuses hostile rd with 400 and spends nothing', async () => {
    const portal = new PageBrowser(t, { host: 'auth.other.test' });
    portal.cookies.set(handoffStateCookie, 'C'.repeat(43));
    for (const rd of hostile) {
      expectRefused(await portal.get(`/v1/forward-auth/sso/callback?code=${'D'.repeat(43)}&state=${'C'.repeat(43)}&rd=${encodeURIComponent(rd)}`), 400, 'invalid_request');
    }
  });

  it('FA-64: the code and the state never reach the log', async () => {
    const { portal, callbackUrl } = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
    const state = portal.cookies.get(handoffStateCookie)!;
    expect((await portal.get(localOf(callbackUrl))).statusCode).toBe(302);
    const log = logLines.join('');
    expect(log).toContain('/v1/forward-auth/sso/callback');
    expect(log).not.toContain(codeOf(callbackUrl));
    expect(log).not.toContain(state);
  });
});

// Two instances on one PostgreSQL and one Redis (the "postgres" test project): a code issued by
// one is taken once across both. Registered only there (the other projects share no state).
if (testSharedState === 'redis') {
  describe('forward-auth handoff on two instances over PostgreSQL + Redis', () => {
    let second: TestTwofold;
    beforeAll(async () => {
      second = await startForwardAuthTwofold('default: two_factor\n', { ...t.storage.env, TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: domainsWithPortals });
    });
    afterAll(async () => second?.close());

    it('FA-58: 20 parallel callbacks with one code, half on each instance: exactly one sets a cookie', async () => {
      const { portal, callbackUrl } = await handoffToPortal(t, await signedIn(), 'https://app.other.test/');
      const state = portal.cookies.get(handoffStateCookie)!;
      const onSecond = new PageBrowser(second, { host: 'auth.other.test' });
      onSecond.cookies.set(handoffStateCookie, state);
      const responses = await Promise.all(Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? portal : onSecond).get(localOf(callbackUrl))));
      expect(responses.filter((response) => response.statusCode === 302)).toHaveLength(1);
      expect(responses.filter((response) => response.statusCode === 401)).toHaveLength(19);
      // The cookie either instance set is a session on both.
      const cookie = portal.cookies.get(faCookie) ?? onSecond.cookies.get(faCookie)!;
      expect((await ask(t, 'https://app.other.test/', { cookie })).statusCode).toBe(200);
      expect((await ask(second, 'https://app.other.test/', { cookie })).statusCode).toBe(200);
    });
  });
}
