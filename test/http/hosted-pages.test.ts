// The hosted pages as HTML (app.inject with a cookie jar): what a newcomer sees in the first hour —
// the TOTP key in groups, one setup per enrollment page however often it is reloaded, a header
// that stops offering "Sign in" once someone is signed up, "Not you? Cancel" on the second-factor
// page, device names and local times on the account page, older security events a page at a
// time, the factor chooser's recommendation, and the icon. What needs a real browser (focus, the
// time zone, layout on a phone) is in test/e2e/browser.test.ts.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, postJson, registerUser, strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { PageBrowser, pageCookies, totpKeyIn } from '../helpers/page-browser.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold({ env: { TWOFOLD_FACTORS: 'totp,sms,webauthn,recovery,email' } });
});
afterAll(async () => t?.close());

const firefoxOnWindows = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** Signs up through the pages; the browser is then between sign-up and its first factor. */
async function signUp(b: PageBrowser): Promise<string> {
  const username = uniqueUsername('pages');
  await b.get('/sign-up');
  const created = await b.post('/sign-up', { username, password: strongPassword });
  expect(created.statusCode, created.body.slice(0, 300)).toBe(303);
  return username;
}

const factorIdIn = (page: string) => /name="factor_id" value="([^"]+)"/.exec(page)![1]!;

/** Confirms the authenticator app the enrollment page shows; the browser is then signed in. */
async function confirmApp(b: PageBrowser, page: LightMyRequestResponse): Promise<string> {
  const secret = totpKeyIn(page.body);
  t.clock.advanceSeconds(30);
  const confirmed = await b.post('/enroll/confirm', { factor_id: factorIdIn(page.body), code: totpCode(t, secret) });
  expect(confirmed.statusCode, confirmed.body.slice(0, 300)).toBe(200);
  return secret;
}

async function signedInBrowser(headers: Record<string, string> = {}): Promise<{ b: PageBrowser; username: string; secret: string }> {
  const b = new PageBrowser(t, headers);
  const username = await signUp(b);
  const secret = await confirmApp(b, await b.get('/enroll/totp'));
  return { b, username, secret };
}

async function eventsOf(accessToken: string): Promise<Array<{ id: string; type: string; details: Record<string, unknown> }>> {
  const response = await getJson(t.app, '/v1/me/events?limit=100', bearer(accessToken));
  expect(response.statusCode, response.body).toBe(200);
  return response.json().events;
}

const headerOf = (page: string) => /<header class="site">([\s\S]*?)<\/header>/.exec(page)![1]!;

describe('the TOTP key on the enrollment page', () => {
  it('is shown in groups of four with no space characters (CSS spaces them), so a copy is the bare key, which the app codes confirm', async () => {
    const b = new PageBrowser(t);
    await signUp(b);
    const page = await b.get('/enroll/totp');
    const element = /<span class="secret" id="totp-secret" data-testid="totp-secret">(.*?)<\/span><button/.exec(page.body);
    expect(element, 'the key element').not.toBeNull();
    const groups = [...element![1]!.matchAll(/<span class="group">([^<]*)<\/span>/g)].map((match) => match[1]!);
    expect(groups).toHaveLength(8);
    for (const group of groups) expect(group).toMatch(/^[A-Z2-7]{4}$/);
    // Nothing but the groups inside the key: no spaces that a selection would copy.
    expect(element![1]!.replace(/<span class="group">[A-Z2-7]{4}<\/span>/g, '')).toBe('');
    expect(page.body).toContain('<button type="button" class="secondary" data-copy-target="totp-secret" data-copy-compact hidden>Copy key</button>');
    const key = groups.join('');
    expect(key).toBe(totpKeyIn(page.body));
    // It is the secret: a code computed from the groups joined confirms the factor.
    t.clock.advanceSeconds(30);
    const confirmed = await b.post('/enroll/confirm', { factor_id: factorIdIn(page.body), code: totpCode(t, key) });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain('Save your recovery codes');
  });
});

describe('one "Factor setup started" per setup', () => {
  it('reloading the first enrollment page shows the same key and factor again, and records one factor.enrolled', async () => {
    const b = new PageBrowser(t);
    await signUp(b);
    const pages = [await b.get('/enroll/totp'), await b.get('/enroll/totp'), await b.get('/enroll/totp')];
    for (const page of pages) expect(page.statusCode).toBe(200);
    expect(new Set(pages.map((page) => totpKeyIn(page.body))).size).toBe(1);
    expect(new Set(pages.map((page) => factorIdIn(page.body))).size).toBe(1);
    await confirmApp(b, pages[2]!);
    const enrolled = (await eventsOf(b.accessToken)).filter((event) => event.type === 'factor.enrolled');
    expect(enrolled).toHaveLength(1);
  });

  it('adding a second app from the account page: reloads show the same setup, one more event, and it confirms with the key first shown', async () => {
    const { b } = await signedInBrowser();
    const first = await b.get('/enroll/totp');
    const again = await b.get('/enroll/totp');
    expect(totpKeyIn(again.body)).toBe(totpKeyIn(first.body));
    expect(factorIdIn(again.body)).toBe(factorIdIn(first.body));
    t.clock.advanceSeconds(30);
    const confirmed = await b.post('/enroll/confirm', { factor_id: factorIdIn(first.body), code: totpCode(t, totpKeyIn(first.body)) });
    expect(confirmed.statusCode, confirmed.body.slice(0, 300)).toBe(303);
    expect(confirmed.headers.location).toBe('/account?done=factor-added');
    const events = await eventsOf(b.accessToken);
    expect(events.filter((event) => event.type === 'factor.enrolled')).toHaveLength(2);
    expect(events.filter((event) => event.type === 'factor.activated')).toHaveLength(2);
  });

  it('the API still starts a new setup on every POST /v1/factors (an explicit request), each with its event', async () => {
    const { b } = await signedInBrowser();
    const one = await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(b.accessToken));
    const two = await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(b.accessToken));
    expect(one.json().secret).not.toBe(two.json().secret);
    expect((await eventsOf(b.accessToken)).filter((event) => event.type === 'factor.enrolled')).toHaveLength(3);
  });
});

describe('the header', () => {
  const offersSignIn = (page: LightMyRequestResponse) => /href="\/sign-in"|href="\/sign-up"/.test(headerOf(page.body));

  it('offers "Sign in" and "Create account" only to someone neither signed up nor signed in', async () => {
    const b = new PageBrowser(t);
    const anonymous = await b.get('/sign-in');
    expect(headerOf(anonymous.body)).toContain('Create account');
    expect(offersSignIn(anonymous)).toBe(true);

    const username = await signUp(b);
    for (const url of ['/enroll', '/enroll/totp']) {
      const page = await b.get(url);
      expect(page.statusCode, url).toBe(200);
      expect(offersSignIn(page), `signed up, ${url}`).toBe(false);
    }
    const secret = await confirmApp(b, await b.get('/enroll/totp'));
    const account = await b.get('/account');
    expect(offersSignIn(account)).toBe(false);
    expect(headerOf(account.body)).toContain('Sign out');

    // Between the password and the second factor.
    const waiting = new PageBrowser(t);
    await waiting.post('/sign-in', { username, password: strongPassword });
    const prompt = await waiting.get('/sign-in/verify');
    expect(prompt.statusCode).toBe(200);
    expect(offersSignIn(prompt)).toBe(false);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  });
});

describe('"Not you? Cancel" on the second-factor page', () => {
  it('ends the pending sign-in on the server (its mfa_token is refused), and the sign-in page starts empty', async () => {
    const registered = await registerUser(t);
    expect((await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken))).statusCode).toBe(200);
    const b = new PageBrowser(t);
    const password = await b.post('/sign-in', { username: registered.username, password: registered.password });
    expect(password.headers.location).toBe('/sign-in/verify');
    const mfaToken = b.cookies.get(pageCookies.pending)!;
    expect(mfaToken).toBeDefined();

    const prompt = await b.get('/sign-in/verify');
    expect(prompt.body).toContain(`Signing in as <strong data-username>${registered.username}</strong>.`);
    expect(prompt.body).toMatch(/<form method="post" action="\/sign-in\/cancel"[\s\S]*?<button type="submit" class="link">Not you\? Cancel<\/button>/);

    const cancelled = await b.post('/sign-in/cancel');
    expect(cancelled.statusCode).toBe(303);
    expect(cancelled.headers.location).toBe('/sign-in?done=sign-in-cancelled');
    expect(b.cookies.has(pageCookies.pending)).toBe(false);
    // Server-side, not just a cookie dropped: the token itself no longer completes anything.
    t.clock.advanceSeconds(30);
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, registered.secret) }, bearer(mfaToken)), 401, 'invalid_token');
    const session = await t.ctx.db.selectFrom('sessions').select(['state', 'revoke_reason']).where('user_id', '=', registered.userId).where('revoke_reason', '=', 'cancelled').executeTakeFirst();
    expect(session).toEqual({ state: 'revoked', revoke_reason: 'cancelled' });

    const signIn = await b.get(cancelled.headers.location as string);
    expect(signIn.body).toContain('That sign-in was cancelled.');
    expect(signIn.body).toContain('<input id="username" name="username" type="text" value=""');
    expect(signIn.body).not.toContain(registered.username);
    // The prompt is gone for this browser.
    expect((await b.get('/sign-in/verify')).headers.location).toBe('/sign-in?done=sign-in-expired');

    // And the account's owner can see it happened.
    const signedIn = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, registered.secret) }, bearer((await postJson(t.app, '/v1/login', { username: registered.username, password: registered.password })).json().mfa_token));
    const revoked = (await eventsOf(signedIn.json().access_token)).filter((event) => event.type === 'session.revoked');
    expect(revoked.map((event) => event.details['reason'])).toContain('sign_in_cancelled');
  });

  it('with no pending sign-in left, cancelling still returns to the sign-in page (nothing to end)', async () => {
    const b = new PageBrowser(t);
    const response = await b.post('/sign-in/cancel');
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/sign-in?done=sign-in-cancelled');
  });
});

describe('the account page', () => {
  it('names each session’s device from its user agent, keeping the raw claim as a tooltip', async () => {
    const { b } = await signedInBrowser({ 'user-agent': firefoxOnWindows });
    const account = await b.get('/account');
    expect(account.body).toContain('Device (as its browser describes itself)');
    expect(account.body).toContain(`<span title="${firefoxOnWindows}" data-device>Firefox on Windows</span> <strong>(this browser)</strong>`);
  });

  it('writes every time as <time datetime> with a UTC text for the page script to show in the reader’s zone', async () => {
    const { b } = await signedInBrowser();
    const account = await b.get('/account');
    const times = [...account.body.matchAll(/<time datetime="([^"]+)" data-local="(minute|day)">([^<]+)<\/time>/g)];
    expect(times.length).toBeGreaterThanOrEqual(3); // the session, the factor's last use, the events
    for (const [, iso, precision, text] of times) {
      expect(new Date(iso!).toISOString()).toBe(iso);
      expect(text).toBe(precision === 'day' ? iso!.slice(0, 10) : `${iso!.slice(0, 16).replace('T', ' ')} UTC`);
    }
    // No time is written outside a <time> element.
    expect(account.body.replace(/<time [^>]*>[^<]*<\/time>/g, '')).not.toMatch(/\d{2}:\d{2} UTC/);
  });

  it('pages the security events: ten on the account page, then twenty a page after the keyset cursor, exactly the API’s events in order', async () => {
    const { b } = await signedInBrowser();
    const factorId = /data-factor-id="([^"]+)"/.exec((await b.get('/account')).body)![1]!;
    for (let index = 0; index < 40; index += 1) {
      expect((await b.post(`/account/factors/${factorId}/rename`, { label: `app ${index}` })).statusCode).toBe(303);
    }
    const api = (await eventsOf(b.accessToken)).map((event) => event.id);
    expect(api.length).toBeGreaterThan(40);

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let url: string | undefined = '/account';
    while (url !== undefined) {
      const page = await b.get(url);
      expect(page.statusCode, url).toBe(200);
      const ids = [...page.body.matchAll(/<tr data-event-id="([^"]+)">/g)].map((match) => match[1]!);
      pageSizes.push(ids.length);
      seen.push(...ids);
      const next = /<a class="button secondary" href="(\/account\/events\?before=[^"]+)" data-older-events>Show older events<\/a>/.exec(page.body)?.[1];
      if (next !== undefined) expect(next).toBe(`/account/events?before=${ids.at(-1)}`);
      url = next;
    }
    expect(seen).toEqual(api);
    expect(pageSizes[0]).toBe(10);
    expect(pageSizes.slice(1, -1).every((size) => size === 20)).toBe(true);
    expect(pageSizes.at(-1)).toBeGreaterThan(0);
  });

  it('refuses a cursor it did not make with a 400 page, and sends someone signed out to sign in', async () => {
    const { b } = await signedInBrowser();
    for (const cursor of ['..%2F..%2Fetc', 'ses_abc', `evt_${'a'.repeat(100)}`]) {
      const page = await b.get(`/account/events?before=${cursor}`);
      expect(page.statusCode, cursor).toBe(400);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('That link to older events is not one this site made');
    }
    const page = await b.get('/account/events?before=evt_a&before=evt_b');
    expect(page.statusCode).toBe(400);
    const stranger = await new PageBrowser(t).get('/account/events');
    expect(stranger.statusCode).toBe(303);
    expect(stranger.headers.location).toBe('/sign-in?done=sign-in-expired');
  });
});

describe('the factor chooser', () => {
  const cardsOf = (page: string) => [...page.matchAll(/<(?:section|form)[^>]*class="card stack choice( is-recommended)?"[^>]*data-choice="([a-z]+)"/g)].map((match) => ({ choice: match[2]!, recommended: match[1] !== undefined }));

  it('shows one card per factor offered, the authenticator app first and marked recommended with its reason in a line', async () => {
    const { b } = await signedInBrowser();
    const page = await b.get('/enroll');
    expect(cardsOf(page.body)).toEqual([
      { choice: 'totp', recommended: true },
      { choice: 'webauthn', recommended: false },
      { choice: 'sms', recommended: false },
      { choice: 'email', recommended: false },
    ]);
    expect(page.body.match(/data-recommended/g)).toHaveLength(1);
    expect(page.body).toMatch(/<p class="recommended" id="why-totp"><strong class="badge">Recommended<\/strong> It works on any phone, even offline, and its codes cannot be intercepted like text messages\.<\/p>/);
    expect(page.body).toContain('aria-describedby="why-totp" data-recommended');
  });

  it('offers no e-mail codes for the first factor', async () => {
    const b = new PageBrowser(t);
    await signUp(b);
    expect(cardsOf((await b.get('/enroll')).body).map((card) => card.choice)).toEqual(['totp', 'webauthn', 'sms']);
  });
});

describe('the icon', () => {
  it('every page links an SVG icon served with the assets under the same CSP; /favicon.ico leads to it', async () => {
    const b = new PageBrowser(t);
    const page = await b.get('/sign-in');
    expect(page.body).toContain('<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">');
    const icon = await b.get('/assets/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.body).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(icon.body).not.toMatch(/<script|style=|on[a-z]+=/i);
    expect(icon.headers['content-security-policy']).toBe(page.headers['content-security-policy']);
    const classic = await b.get('/favicon.ico');
    expect(classic.statusCode).toBe(301);
    expect(classic.headers.location).toBe('/assets/favicon.svg');
  });
});
