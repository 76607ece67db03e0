// Signing in with a passkey alone through the hosted pages, as HTML over app.inject with a cookie
// jar and the software authenticator: the options as JSON behind the pages' CSRF token, the answer
// posted as a form, the session and the return exactly as after a second factor; refusals said on
// the page (never a 500), with the Signal API's "unknown credential" only for a credential the site
// does not have; the offer of a passkey after a password sign-in and its 90 quiet days. What needs
// a real browser (the button, conditional UI, the Signal API itself) is test/e2e/passkey-sign-in.test.ts.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { PageBrowser, pageCookies, totpKeyIn } from '../helpers/page-browser.js';
import { injectPost, signUpWithPasskey } from '../helpers/passkey-sign-in.js';
import { createSoftAuthenticator, type SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold({ env: { TWOFOLD_FACTORS: 'totp,sms,webauthn,recovery' } });
});
afterAll(async () => t?.close());

/** POST /sign-in/passkey/options as the page script does: JSON, with the page's CSRF token in the body. */
async function passkeyOptions(b: PageBrowser, csrf?: string): Promise<LightMyRequestResponse> {
  if (!b.cookies.has(pageCookies.csrf)) await b.get('/sign-in');
  const body = csrf === undefined ? { csrf: b.cookies.get(pageCookies.csrf) } : { csrf };
  return b.send({ method: 'POST', url: '/sign-in/passkey/options', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
}

/** The page script's whole passkey sign-in: options, the authenticator's answer, the form post. */
async function signInWithPasskeyPage(b: PageBrowser, authenticator: SoftAuthenticator): Promise<LightMyRequestResponse> {
  const options = await passkeyOptions(b);
  expect(options.statusCode, options.body).toBe(200);
  const { challenge_id: challengeId, options: requestOptions } = options.json();
  return b.post('/sign-in/passkey', { challenge_id: challengeId, credential: JSON.stringify(authenticator.authenticate(requestOptions)) });
}

function accessClaims(b: PageBrowser): { acr: string; amr: string[]; sub: string } {
  return JSON.parse(Buffer.from(b.accessToken.split('.')[1]!, 'base64url').toString('utf8'));
}

describe('the sign-in page offers a passkey', () => {
  it('PP-01: the username field takes passkeys from autofill, and a hidden passkey form waits for the page script (no script: the password form only)', async () => {
    const page = await new PageBrowser(t).get('/sign-in');
    expect(page.body).toMatch(/<input id="username" name="username" type="text" value="" autocomplete="username webauthn"/);
    expect(page.body).toMatch(/<form class="stack passkey-sign-in" method="post" action="\/sign-in\/passkey" data-passkey-sign-in="\/sign-in\/passkey\/options" data-conditional="on" hidden/);
    expect(page.body).toContain('Sign in with a passkey');
    expect(page.body).not.toMatch(/<script(?! src="\/assets\/app\.js")/);
  });

  it('PP-01: without passkeys configured there is no passkey form, the field is a plain username field, and the routes are not there', async () => {
    const other = await startTestTwofold({ env: { TWOFOLD_FACTORS: 'totp,recovery' } });
    try {
      const b = new PageBrowser(other);
      const page = await b.get('/sign-in');
      expect(page.body).toContain('autocomplete="username"');
      expect(page.body).not.toContain('passkey');
      expect((await passkeyOptions(b)).statusCode).toBe(404);
    } finally {
      await other.close();
    }
  });
});

describe('a passkey sign-in through the pages', () => {
  it('PP-01: options as JSON, the answer as a form: signed in (aal2, swk + mfa, no pwd) and sent on like any completed sign-in', async () => {
    const account = await signUpWithPasskey(injectPost(t));
    const b = new PageBrowser(t);
    const options = await passkeyOptions(b);
    expect(options.statusCode).toBe(200);
    expect(options.headers['cache-control']).toBe('no-store');
    const body = options.json();
    expect(body.options.allowCredentials ?? []).toEqual([]);
    expect(body.options.userVerification).toBe('required');
    const answered = await b.post('/sign-in/passkey', { challenge_id: body.challenge_id, credential: JSON.stringify(account.authenticator.authenticate(body.options)) });
    expect(answered.statusCode, answered.body.slice(0, 300)).toBe(303);
    expect(answered.headers.location).toBe('/account');
    expect(accessClaims(b)).toMatchObject({ sub: account.userId, acr: 'aal2', amr: ['swk', 'mfa'] });
    expect(b.cookies.has(pageCookies.refresh)).toBe(true);
    const accountPage = await b.get('/account');
    expect(accountPage.statusCode).toBe(200);
    expect(accountPage.body).toContain('data-passkey-ability="sign-in"');
    // Signed in without a password: no offer of a passkey.
    expect(accountPage.body).not.toContain('data-passkey-offer');
  });

  it('PP-01: the options and the answer need the page\'s CSRF token (a forged request is refused and spends nothing)', async () => {
    const account = await signUpWithPasskey(injectPost(t));
    const b = new PageBrowser(t);
    expect((await passkeyOptions(b, 'forged-token-forged-token-forged-token-xxxx')).statusCode).toBe(403);
    const options = (await passkeyOptions(b)).json();
    const forged = await b.send({
      method: 'POST',
      url: '/sign-in/passkey',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ challenge_id: options.challenge_id, credential: JSON.stringify(account.authenticator.authenticate(options.options)) }).toString(),
    });
    expect(forged.statusCode).toBe(403);
    expect(b.cookies.has(pageCookies.access)).toBe(false);
    // The challenge was not taken by the forged post: the real one still signs in.
    const real = await b.post('/sign-in/passkey', { challenge_id: options.challenge_id, credential: JSON.stringify(account.authenticator.authenticate(options.options)) });
    expect(real.statusCode, real.body.slice(0, 300)).toBe(303);
  });

  it('PP-01: a sign-in started with an allowed return_to goes back there', async () => {
    const other = await startTestTwofold({ env: { TWOFOLD_FACTORS: 'totp,webauthn,recovery', TWOFOLD_ALLOWED_REDIRECTS: 'https://app.example' } });
    try {
      const account = await signUpWithPasskey(injectPost(other));
      const b = new PageBrowser(other);
      await b.get(`/sign-in?return_to=${encodeURIComponent('https://app.example/after')}`);
      const answered = await signInWithPasskeyPage(b, account.authenticator);
      expect(answered.statusCode).toBe(303);
      expect(answered.headers.location).toBe('https://app.example/after');
    } finally {
      await other.close();
    }
  });

  it('PP-02: past the network\'s budget of passkey sign-ins the options endpoint answers the page script why, with Retry-After (the button shows it)', async () => {
    const other = await startTestTwofold({ env: { TWOFOLD_FACTORS: 'totp,webauthn,recovery', TWOFOLD_PASSKEY_CHALLENGES_PER_CLIENT: '1' } });
    try {
      const b = new PageBrowser(other);
      expect((await passkeyOptions(b)).statusCode).toBe(200);
      const refused = await passkeyOptions(b);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['content-type']).toMatch(/^application\/json/);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.json()).toEqual({ code: 'too_many_attempts', message: expect.stringContaining('try again in a few minutes') });
    } finally {
      await other.close();
    }
  });

  it('PP-02: an answer that is not JSON, an unknown challenge, a replayed challenge: a message on the sign-in page, never a 500', async () => {
    const account = await signUpWithPasskey(injectPost(t));
    const b = new PageBrowser(t);
    const notJson = await b.post('/sign-in/passkey', { challenge_id: 'chl_whatever', credential: '{not json' });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.body).toContain('could not be read');
    expect(notJson.body).toContain('data-conditional="off"');

    const options = (await passkeyOptions(b)).json();
    const unknownChallenge = await b.post('/sign-in/passkey', { challenge_id: 'chl_nosuchchallenge', credential: JSON.stringify(account.authenticator.authenticate(options.options)) });
    expect(unknownChallenge.statusCode).toBeGreaterThanOrEqual(400);
    expect(unknownChallenge.statusCode).toBeLessThan(500);
    expect(unknownChallenge.body).toContain('expired');

    const credential = JSON.stringify(account.authenticator.authenticate(options.options));
    expect((await b.post('/sign-in/passkey', { challenge_id: options.challenge_id, credential })).statusCode).toBe(303);
    await b.post('/sign-out');
    const replayed = await b.post('/sign-in/passkey', { challenge_id: options.challenge_id, credential });
    expect(replayed.statusCode).toBeGreaterThanOrEqual(400);
    expect(replayed.statusCode).toBeLessThan(500);
    expect(replayed.body).toContain('<form class="stack card" method="post" action="/sign-in"');
    // A known credential refused is not "unknown": the browser must keep offering it.
    expect(replayed.body).not.toContain('data-passkey-signal');
  });

  it('PP-03: a passkey the site does not have is refused on the page, which asks the browser to forget it (signalUnknownCredential)', async () => {
    const stranger = createSoftAuthenticator();
    // A passkey for this site's RP ID that was never registered here (or was removed since).
    const credential = stranger.register({
      challenge: Buffer.from('a challenge of another time').toString('base64url'),
      rp: { id: 'twofold.test', name: 'Twofold' },
      user: { id: Buffer.from('usr_gone').toString('base64url'), name: 'gone', displayName: 'gone' },
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    const b = new PageBrowser(t);
    const refused = await signInWithPasskeyPage(b, stranger);
    expect(refused.statusCode).toBe(401);
    expect(refused.body).toContain('did not sign you in');
    expect(refused.body).toContain(`data-passkey-signal="unknown-credential" data-rp-id="twofold.test" data-credential-id="${credential.id}"`);
    expect(b.cookies.has(pageCookies.access)).toBe(false);
  });
});

describe('the offer of a passkey after a password sign-in', () => {
  /** Sign up through the pages with an authenticator app; the browser is then signed in (password + app). */
  async function signedInWithApp(): Promise<{ b: PageBrowser; secret: string; username: string }> {
    const b = new PageBrowser(t);
    const username = uniqueUsername('offer');
    await b.get('/sign-up');
    expect((await b.post('/sign-up', { username, password: strongPassword })).statusCode).toBe(303);
    const enrollment = await b.get('/enroll/totp');
    const secret = totpKeyIn(enrollment.body);
    t.clock.advanceSeconds(30);
    const factorId = /name="factor_id" value="([^"]+)"/.exec(enrollment.body)![1]!;
    expect((await b.post('/enroll/confirm', { factor_id: factorId, code: totpCode(t, secret) })).statusCode).toBe(200);
    return { b, secret, username };
  }

  async function signInAgain(b: PageBrowser, username: string, secret: string): Promise<void> {
    await b.post('/sign-out');
    expect((await b.post('/sign-in', { username, password: strongPassword })).statusCode).toBe(303);
    t.clock.advanceSeconds(30);
    expect((await b.post('/sign-in/verify', { code: totpCode(t, secret) })).statusCode).toBe(303);
  }

  it('PP-04: shown right after a password sign-in to someone without a passkey that signs in alone, then gone by itself; "Not now" keeps it away for 90 days, then it comes back', async () => {
    const { b, secret, username } = await signedInWithApp();
    const first = await b.get('/account');
    expect(first.body).toContain('data-passkey-offer');
    expect(first.body).toContain('<form method="post" action="/enroll/passkey">');

    // Only right after the sign-in (while the passkey setup needs no further check): then it goes by itself.
    t.clock.advanceSeconds(t.ctx.config.sessions.stepUpMaxAgeSeconds + 1);
    expect((await b.get('/account')).body).not.toContain('data-passkey-offer');
    await signInAgain(b, username, secret);
    expect((await b.get('/account')).body).toContain('data-passkey-offer');

    const dismissed = await b.post('/account/passkey-offer/dismiss');
    expect(dismissed.statusCode).toBe(303);
    expect(dismissed.headers.location).toBe('/account?done=passkey-offer-dismissed');
    expect((await b.get('/account?done=passkey-offer-dismissed')).body).not.toContain('data-passkey-offer');

    t.clock.advanceSeconds(89 * 86_400);
    await signInAgain(b, username, secret);
    expect((await b.get('/account')).body).not.toContain('data-passkey-offer');

    t.clock.advanceSeconds(2 * 86_400);
    await signInAgain(b, username, secret);
    expect((await b.get('/account')).body).toContain('data-passkey-offer');
  });

  it('PP-04: "Not now" needs the CSRF token and a signed-in session', async () => {
    const { b } = await signedInWithApp();
    const forged = await b.send({ method: 'POST', url: '/account/passkey-offer/dismiss', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(forged.statusCode).toBe(403);
    expect((await b.get('/account')).body).toContain('data-passkey-offer');
    const stranger = new PageBrowser(t);
    const signedOut = await stranger.post('/account/passkey-offer/dismiss');
    expect(signedOut.statusCode).toBe(303);
    expect(signedOut.headers.location).toBe('/sign-in?done=sign-in-expired');
  });
});
