// The enrollment pages in the first hour: a wrong first code must not cost the entry already in the
// person's authenticator app, the page says in words how many tries are left and what running out
// means, and running out ends a sign-in — never the account — with a way on from the same page.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { strongPassword, uniqueUsername } from '../helpers/flow.js';
import { uniquePhone, wrongCode } from '../helpers/otp.js';
import { lastSentCode } from '../helpers/outbox.js';
import { PageBrowser, totpKeyIn } from '../helpers/page-browser.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold({ env: { TWOFOLD_OTP_RESEND_INTERVAL_SECONDS: '0' } });
});
afterAll(async () => t?.close());

/** The key as the page shows it (its groups joined), or undefined when the page shows none. */
const secretOf = (page: LightMyRequestResponse) => (/data-testid="totp-secret"/.test(page.body) ? totpKeyIn(page.body) : undefined);
const qrOf = (page: LightMyRequestResponse) => /<div class="qr"[^>]*>([\s\S]*?)<\/div>/.exec(page.body)?.[1];
const factorIdOf = (page: LightMyRequestResponse) => /name="factor_id" value="([^"]+)"/.exec(page.body)![1]!;
const challengeIdOf = (page: LightMyRequestResponse) => /name="challenge_id" value="([^"]+)"/.exec(page.body)?.[1];
const attemptsLeftOf = (page: LightMyRequestResponse) => Number(/data-attempts-left="(\d+)"/.exec(page.body)?.[1]);
const codeNow = (secret: string) => generateTotpCode(secret.replace(/\s+/g, ''), totpStepAt(t.clock.now()));

/** Signed up through the pages: the account exists, the first factor is still to be set up. */
async function signUpThroughPages(): Promise<{ browser: PageBrowser; username: string }> {
  const browser = new PageBrowser(t);
  const username = uniqueUsername('first');
  await browser.get('/sign-up');
  const created = await browser.post('/sign-up', { username, password: strongPassword });
  expect(created.statusCode, created.body.slice(0, 300)).toBe(303);
  expect(created.headers.location).toBe('/enroll');
  return { browser, username };
}

async function userRow(username: string) {
  return t.ctx.db.selectFrom('users').select(['id', 'disabled_at']).where('username', '=', username).executeTakeFirst();
}

describe('the authenticator app at the first sign-in', () => {
  it('A wrong enrollment code shows the same QR code and key again, with the error and the tries left', async () => {
    const { browser } = await signUpThroughPages();
    const page = await browser.get('/enroll/totp');
    expect(page.statusCode).toBe(200);
    const secret = secretOf(page)!;
    const qr = qrOf(page)!;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(qr).toContain('<svg');
    expect(attemptsLeftOf(page)).toBe(5);
    expect(page.body).toContain('You have 5 tries in the next 5 minutes. If they run out, this setup stops but your account stays: sign in again with your password and set up your second factor then.');

    const wrong = await browser.post('/enroll/confirm', { factor_id: factorIdOf(page), code: wrongCode(codeNow(secret), 500_000) });
    expect(wrong.statusCode).toBe(400);
    expect(secretOf(wrong)).toBe(secret);
    expect(qrOf(wrong)).toBe(qr);
    expect(wrong.body).toMatch(/<p class="error" id="code-error">The code is wrong or was already used\.<\/p>/);
    expect(wrong.body).toContain('aria-invalid="true"');
    expect(attemptsLeftOf(wrong)).toBe(4);
    expect(wrong.body).toContain('You have 4 tries in the next 5 minutes. If they run out, this setup stops but your account stays');
    // The secret is never carried by the page: the form holds the factor's id only.
    expect(wrong.body).not.toMatch(/name="(secret|otpauth_uri)"/);

    // Not a code at all: the same again, and no try spent.
    const malformed = await browser.post('/enroll/confirm', { factor_id: factorIdOf(page), code: '12 ab 34' });
    expect(malformed.statusCode).toBe(400);
    expect(secretOf(malformed)).toBe(secret);
    expect(malformed.body).toContain('6-digit code');
    expect(attemptsLeftOf(malformed)).toBe(4);

    // Loading the page again (a reload, "back"): still the same key, not a new one.
    const reloaded = await browser.get('/enroll/totp');
    expect(secretOf(reloaded)).toBe(secret);
    expect(factorIdOf(reloaded)).toBe(factorIdOf(page));

    // The code as the app shows it, with a space: accepted; the recovery codes follow.
    const code = codeNow(secret);
    const confirmed = await browser.post('/enroll/confirm', { factor_id: factorIdOf(page), code: `${code.slice(0, 3)} ${code.slice(3)}` });
    expect(confirmed.statusCode, confirmed.body.slice(0, 500)).toBe(200);
    expect(confirmed.body).toContain('id="recovery-codes"');
  });

  it('Running out of tries keeps the account and offers the way on: sign in again with the password and set up the app', async () => {
    const { browser, username } = await signUpThroughPages();
    const page = await browser.get('/enroll/totp');
    const secret = secretOf(page)!;
    const wrong = wrongCode(codeNow(secret), 500_000);
    let shown = page;
    for (let left = 4; left >= 1; left -= 1) {
      shown = await browser.post('/enroll/confirm', { factor_id: factorIdOf(page), code: wrong });
      expect(attemptsLeftOf(shown)).toBe(left);
      expect(secretOf(shown)).toBe(secret);
    }
    expect(shown.body).toContain('You have 1 try in the next');

    const last = await browser.post('/enroll/confirm', { factor_id: factorIdOf(page), code: wrong });
    expect(last.statusCode).toBe(401);
    expect(last.body).toContain('That was the last try, so this setup has stopped.');
    expect(last.body).toContain(`Your account <strong>${username}</strong> is kept. Sign in again with your password to set up your second factor.`);
    expect(last.body).toContain('delete the entry you added to your authenticator app this time');
    expect(last.body).not.toMatch(/sign-in expired/i);
    // The way on: the password form, the username filled in.
    expect(last.body).toMatch(/<form class="stack card" method="post" action="\/sign-in" novalidate>/);
    expect(last.body).toContain(`name="username" type="text" value="${username}"`);
    expect(last.body).toContain('name="password" type="password"');

    // The account is there; the ended sign-in is not.
    const user = await userRow(username);
    expect(user).toMatchObject({ disabled_at: null });
    const away = await browser.get('/enroll');
    expect(away.headers.location).toBe('/sign-in?done=setup-expired');
    const notice = await browser.get(away.headers.location!);
    expect(notice.body).toContain('Your account is kept — sign in with your password to set it up.');
    expect(notice.body).not.toContain('That sign-in expired');

    // Signing in again leads back to setting up the factor, and it completes.
    const signedIn = await browser.post('/sign-in', { username, password: strongPassword });
    expect(signedIn.headers.location).toBe('/enroll');
    const again = await browser.get('/enroll/totp');
    const newSecret = secretOf(again)!;
    expect(newSecret).not.toBe(secret);
    const confirmed = await browser.post('/enroll/confirm', { factor_id: factorIdOf(again), code: codeNow(newSecret) });
    expect(confirmed.statusCode, confirmed.body.slice(0, 500)).toBe(200);
    expect(confirmed.body).toContain('id="recovery-codes"');
    const factors = await t.ctx.db.selectFrom('factors').select(['type', 'status']).where('user_id', '=', user!.id).execute();
    expect(factors).toEqual([{ type: 'totp', status: 'active' }]);
  });
});

describe('who is shown a pending key again', () => {
  it('OT-07: only the session that started the enrollment: another sign-in of the same account naming its factor sees no key', async () => {
    const { browser, username } = await signUpThroughPages();
    const page = await browser.get('/enroll/totp');
    const secret = secretOf(page)!;
    const other = new PageBrowser(t);
    expect((await other.post('/sign-in', { username, password: strongPassword })).headers.location).toBe('/enroll');
    const refused = await other.post('/enroll/confirm', { factor_id: factorIdOf(page), code: wrongCode(codeNow(secret), 500_000) });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('only that session can continue it');
    expect(secretOf(refused)).toBeUndefined();
    // Neither the key as text nor any of its groups of four.
    expect(refused.body).not.toContain(secret.slice(0, 9));
    for (const group of secret.match(/.{4}/g) ?? []) expect(refused.body).not.toContain(`>${group}<`);
    expect(refused.body).not.toContain('<svg');
    // The owner's setup is untouched: the same key, all tries left.
    const again = await browser.get('/enroll/totp');
    expect(secretOf(again)).toBe(secret);
    expect(attemptsLeftOf(again)).toBe(5);
  });
});

describe('a phone at the first sign-in', () => {
  it('A wrong SMS code shows "we sent a code" again for the same code, with the tries left; a new code can be asked for', async () => {
    const { browser } = await signUpThroughPages();
    const phone = uniquePhone();
    t.clock.advanceSeconds(1);
    const page = await browser.post('/enroll/phone', { phone });
    expect(page.statusCode).toBe(200);
    const challengeId = challengeIdOf(page)!;
    expect(page.body).toContain('We sent a code to +');
    const code = await lastSentCode(t, phone);

    const wrong = await browser.post('/enroll/confirm', { factor_id: factorIdOf(page), challenge_id: challengeId, code: wrongCode(code) });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('We sent a code to +');
    expect(challengeIdOf(wrong)).toBe(challengeId);
    expect(attemptsLeftOf(wrong)).toBe(4);
    expect(wrong.body).toContain('Send a new code');

    t.clock.advanceSeconds(1);
    const resent = await browser.post('/enroll/resend', { factor_id: factorIdOf(page) });
    expect(resent.statusCode).toBe(200);
    const newChallenge = challengeIdOf(resent)!;
    expect(newChallenge).not.toBe(challengeId);
    const newCode = await lastSentCode(t, phone);
    const confirmed = await browser.post('/enroll/confirm', { factor_id: factorIdOf(page), challenge_id: newChallenge, code: `${newCode.slice(0, 3)}-${newCode.slice(3)}` });
    expect(confirmed.statusCode, confirmed.body.slice(0, 500)).toBe(200);
    expect(confirmed.body).toContain('id="recovery-codes"');
  });
});

describe('a passkey at the first sign-in', () => {
  it('A passkey answer that fails offers to try the same passkey again, with the tries left', async () => {
    const { browser } = await signUpThroughPages();
    const page = await browser.post('/enroll/passkey', { label: 'Work laptop' });
    expect(page.body).toContain('data-webauthn="register"');
    const forged = { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'oA' }, clientExtensionResults: {} };
    const failed = await browser.post('/enroll/confirm', { factor_id: factorIdOf(page), credential: JSON.stringify(forged) });
    expect(failed.statusCode).toBe(400);
    expect(failed.body).toContain('<p class="error" role="alert">');
    expect(attemptsLeftOf(failed)).toBe(4);
    expect(failed.body).toMatch(/<form class="stack card" method="post" action="\/enroll\/passkey" novalidate>[\s\S]*name="label" value="Work laptop"[\s\S]*Try the passkey again/);
    const retried = await browser.post('/enroll/passkey', { label: 'Work laptop' });
    expect(retried.statusCode).toBe(200);
    expect(retried.body).toContain('data-webauthn="register"');
  });
});

describe('adding a factor while signed in', () => {
  it('running out of tries signs out for safety and says the account and its factors stay', async () => {
    const { browser, username } = await signUpThroughPages();
    const first = await browser.get('/enroll/totp');
    expect((await browser.post('/enroll/confirm', { factor_id: factorIdOf(first), code: codeNow(secretOf(first)!) })).statusCode).toBe(200);

    const page = await browser.get('/enroll/totp');
    expect(page.body).toContain('You have 5 tries. If they run out, you are signed out for safety; your account and its other factors stay as they are');
    const wrong = wrongCode(codeNow(secretOf(page)!), 500_000);
    for (let left = 4; left >= 1; left -= 1) expect(attemptsLeftOf(await browser.post('/enroll/confirm', { factor_id: factorIdOf(page), code: wrong }))).toBe(left);
    const last = await browser.post('/enroll/confirm', { factor_id: factorIdOf(page), code: wrong });
    expect(last.statusCode).toBe(401);
    expect(last.body).toContain(`For your safety you were signed out. Your account <strong>${username}</strong> and its factors are as they were; the new one was not added.`);
    expect([...browser.cookies.keys()].filter((name) => name !== '__Host-twofold-csrf')).toEqual([]);
    const user = await userRow(username);
    const factors = await t.ctx.db.selectFrom('factors').select(['type', 'status']).where('user_id', '=', user!.id).where('status', '=', 'active').execute();
    expect(factors).toEqual([{ type: 'totp', status: 'active' }]);
  });
});
