// The hosted pages and passkeys without a password (WA-06, PW-15, PW-18), through HTTP with a
// cookie jar: adding a passkey from the account needs a step-up on the pages too; the account
// page offers "Remove password" only when the account may go passwordless (behind the step-up
// detour, CSRF like every form — test/security/csrf.test.ts), and "Set a password" once it has none.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteRecoveryCodesOfUser } from '../../src/store/repositories/recovery-codes.js';
import { bearer, getJson, strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { PageBrowser, totpKeyIn } from '../helpers/page-browser.js';
import { createSoftAuthenticator, type SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t?.close());

const unescapeHtml = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const factorIdIn = (page: LightMyRequestResponse) => /name="factor_id" value="([^"]+)"/.exec(page.body)![1]!;
const passkeyOptionsIn = (page: LightMyRequestResponse) => JSON.parse(unescapeHtml(/data-options="([^"]*)"/.exec(page.body)![1]!));
const passwordHashOf = async (username: string) => (await t.ctx.db.selectFrom('users').select('password_hash').where('username', '=', username).executeTakeFirstOrThrow()).password_hash;
const hasPasswordOf = async (b: PageBrowser) => (await getJson(t.app, '/v1/me', bearer(b.accessToken))).json().has_password as boolean;

interface PageUser {
  b: PageBrowser;
  username: string;
  userId: string;
  secret: string;
}

/** Signed up through the pages with an authenticator app: signed in, its second factor just now. */
async function signedInThroughPages(): Promise<PageUser> {
  const b = new PageBrowser(t);
  const username = uniqueUsername('pwless');
  await b.get('/sign-up');
  expect((await b.post('/sign-up', { username, password: strongPassword })).statusCode).toBe(303);
  const page = await b.get('/enroll/totp');
  const secret = totpKeyIn(page.body);
  const confirmed = await b.post('/enroll/confirm', { factor_id: factorIdIn(page), code: totpCode(t, secret) });
  expect(confirmed.statusCode, confirmed.body.slice(0, 300)).toBe(200);
  const { id } = await t.ctx.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirstOrThrow();
  return { b, username, userId: id, secret };
}

/** The step-up detour as a person takes it: the next app code on /account/verify, then on to `next`. */
async function stepUpThroughPages(user: PageUser, next: string): Promise<void> {
  t.clock.advanceSeconds(30);
  const verified = await user.b.post('/account/verify', { code: totpCode(t, user.secret), next });
  expect(verified.statusCode, verified.body.slice(0, 300)).toBe(303);
}

/** Creates a passkey on the enrollment page with this (software) authenticator; the session's second factor must be recent. */
async function addPasskeyThroughPages(user: PageUser, authenticator: SoftAuthenticator): Promise<void> {
  const page = await user.b.post('/enroll/passkey', { label: 'Laptop' });
  expect(page.statusCode, page.body.slice(0, 300)).toBe(200);
  const credential = authenticator.register(passkeyOptionsIn(page));
  const confirmed = await user.b.post('/enroll/confirm', { factor_id: factorIdIn(page), credential: JSON.stringify(credential) });
  expect(confirmed.statusCode, confirmed.body.slice(0, 300)).toBe(303);
  expect(confirmed.headers.location).toBe('/account?done=factor-added');
}

describe('adding a passkey on the pages (WA-06)', () => {
  it('WA-06: with an old second factor, starting a passkey sends the person through the step-up first, then it works', async () => {
    const user = await signedInThroughPages();
    t.clock.advanceSeconds(6 * 60);
    const detour = await user.b.post('/enroll/passkey', { label: 'Laptop' });
    expect(detour.statusCode).toBe(303);
    expect(detour.headers.location).toBe('/account/verify?next=%2Fenroll');
    expect(detour.body).not.toContain('data-webauthn');
    await stepUpThroughPages(user, '/enroll');
    await addPasskeyThroughPages(user, createSoftAuthenticator());
  });

  it('WA-06: a passkey page left open past the step-up window cannot be confirmed: the step-up detour again, and no passkey', async () => {
    const user = await signedInThroughPages();
    const page = await user.b.post('/enroll/passkey', { label: 'Laptop' });
    const credential = createSoftAuthenticator().register(passkeyOptionsIn(page));
    t.clock.advanceSeconds(6 * 60);
    const detour = await user.b.post('/enroll/confirm', { factor_id: factorIdIn(page), credential: JSON.stringify(credential) });
    expect(detour.statusCode).toBe(303);
    expect(detour.headers.location).toMatch(/^\/account\/verify\?next=/);
    const active = await t.ctx.db.selectFrom('factors').select('id').where('user_id', '=', user.userId).where('type', '=', 'webauthn').where('status', '=', 'active').execute();
    expect(active).toEqual([]);
  });
});

describe('the password on the account page (PW-15, PW-18)', () => {
  it('PW-15: without a passkey the page says what is missing and offers no "Remove password"', async () => {
    const user = await signedInThroughPages();
    const account = await user.b.get('/account');
    expect(account.body).toContain('data-password="set"');
    expect(account.body).toContain('data-passwordless="not-yet"');
    expect(account.body).toContain('add a passkey first');
    expect(account.body).not.toContain('action="/account/password/remove"');
  });

  it('PW-15/PW-18: remove the password (behind the step-up), then set one again', async () => {
    const user = await signedInThroughPages();
    await addPasskeyThroughPages(user, createSoftAuthenticator());
    // Recovery codes alone would not do: this account has no verified e-mail address or phone
    // that a reset (the codes' way back in) could reach — so a second passkey.
    expect((await user.b.get('/account')).body).toContain('verify an e-mail address or phone');
    await addPasskeyThroughPages(user, createSoftAuthenticator());
    const offered = await user.b.get('/account');
    expect(offered.body).toMatch(/<form class="stack card" method="post" action="\/account\/password\/remove" data-passwordless="allowed">[\s\S]*name="csrf"[\s\S]*Remove password<\/button>/);

    // An old second factor: the step-up detour, and the password stays.
    t.clock.advanceSeconds(6 * 60);
    const detour = await user.b.post('/account/password/remove');
    expect(detour.statusCode).toBe(303);
    expect(detour.headers.location).toBe('/account/verify?next=/account');
    expect(await passwordHashOf(user.username)).toMatch(/^\$argon2id\$/);

    await stepUpThroughPages(user, '/account');
    const removed = await user.b.post('/account/password/remove');
    expect(removed.statusCode, removed.body.slice(0, 300)).toBe(303);
    expect(removed.headers.location).toBe('/account?done=password-removed');
    expect(await hasPasswordOf(user.b)).toBe(false);
    const without = await user.b.get('/account?done=password-removed');
    expect(without.body).toContain('you sign in with a passkey alone now');
    expect(without.body).toContain('data-password="none"');
    expect(without.body).toContain('Password removed: passkey sign-in only');
    expect(without.body).not.toContain('name="current_password"');
    expect(without.body).toMatch(/action="\/account\/password"[\s\S]*name="new_password"[\s\S]*Set a password<\/button>/);

    const set = await user.b.post('/account/password', { new_password: 'a password for this account again' });
    expect(set.statusCode, set.body.slice(0, 300)).toBe(303);
    expect(set.headers.location).toBe('/account?done=password-set');
    expect(await hasPasswordOf(user.b)).toBe(true);
    expect((await user.b.get('/account')).body).toContain('data-password="set"');
  });

  it('PW-15: one passkey and no recovery code left: the removal is refused on the page with what is missing', async () => {
    const user = await signedInThroughPages();
    await addPasskeyThroughPages(user, createSoftAuthenticator());
    await deleteRecoveryCodesOfUser(t.ctx.db, user.userId);
    expect((await user.b.get('/account')).body).toContain('One passkey is not enough on its own');
    const refused = await user.b.post('/account/password/remove');
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('One passkey is not enough on its own');
    expect(await passwordHashOf(user.username)).toMatch(/^\$argon2id\$/);
  });
});
