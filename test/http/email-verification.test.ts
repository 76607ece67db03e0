// RC-02: an unverified address receives nothing but a verification mail. Anyone can type a
// victim's address at sign-up; until its owner follows the link mailed to it (a single-use token,
// stored hashed, bound to the account and the address, 24 hours), it gets no reset codes and no
// security notices — and at most 5 verification mails a day, whoever asks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, registerUser, strongPassword, totpCode, uniqueUsername, type Registered } from '../helpers/flow.js';
import { lastVerificationToken, outboxMessages, verifyAddress } from '../helpers/outbox.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const verify = (token: string) => postJson(t.app, '/v1/email/verify', { token });
const forgot = (username: string) => postJson(t.app, '/v1/password/forgot', { username });
const me = async (accessToken: string) => (await getJson(t.app, '/v1/me', bearer(accessToken))).json().user as Record<string, unknown>;

/** Register with an address and complete the first sign-in (a notice-worthy event: a factor added). */
async function signUpWith(email: string): Promise<Registered & { accessToken: string }> {
  const registered = await registerUser(t, { email });
  const confirm = await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
  expect(confirm.statusCode, confirm.body).toBe(200);
  return { ...registered, accessToken: confirm.json().access_token as string };
}

async function mailTo(address: string) {
  await t.ctx.background.flush();
  return outboxMessages(t, address);
}

describe('RC-02: an unverified address gets only a verification mail', () => {
  it('RC-02: 40 throw-away accounts registered with a victim’s address — it receives 5 verification mails (the daily budget), no reset code and no notice', async () => {
    const victim = `${uniqueUsername('victim')}@example.com`;
    const accounts: Array<Registered & { accessToken: string }> = [];
    for (let i = 0; i < 40; i += 1) accounts.push(await signUpWith(victim));
    for (const account of accounts.slice(0, 10)) expect((await forgot(account.username)).statusCode).toBe(202);
    // A notice-worthy event on one of the accounts: a changed password.
    const change = await postJson(t.app, '/v1/password', { current_password: strongPassword, new_password: 'a changed passphrase here' }, bearer(accounts[0]!.accessToken));
    expect(change.statusCode, change.body).toBe(204);

    const messages = await mailTo(victim);
    expect(messages.map((message) => message.purpose)).toEqual(Array(5).fill('email_verification'));
    expect(t.events.filter((event) => event.type === 'send_budget.exhausted' && event.details?.['scope'] === 'destination' && event.details['channel'] === 'email')).toHaveLength(1);
    for (const account of accounts.slice(0, 3)) expect((await me(account.accessToken))['email_verified']).toBe(false);
  });

  it('RC-02: after the owner follows the link, reset codes and notices arrive', async () => {
    const email = `${uniqueUsername('owner')}@example.com`;
    const user = await signUpWith(email);
    expect(await me(user.accessToken)).toMatchObject({ email, email_verified: false });
    await forgot(user.username);
    expect((await mailTo(email)).map((message) => message.purpose)).toEqual(['email_verification']);

    await verifyAddress(t, email);
    expect(await me(user.accessToken)).toMatchObject({ email, email_verified: true });
    t.clock.advanceSeconds(1);
    await forgot(user.username);
    t.clock.advanceSeconds(1);
    expect((await postJson(t.app, '/v1/password', { current_password: strongPassword, new_password: 'a changed passphrase here' }, bearer(user.accessToken))).statusCode).toBe(204);
    const purposes = (await mailTo(email)).map((message) => message.purpose);
    expect(purposes).toContain('password_reset');
    expect(purposes).toContain('notice');
    expect(t.events.some((event) => event.type === 'email.verified' && event.userId === user.userId)).toBe(true);
  });
});

describe('the verification link', () => {
  it('works once', async () => {
    const email = `${uniqueUsername('once')}@example.com`;
    const user = await signUpWith(email);
    const token = await lastVerificationToken(t, email);
    expect((await verify(token)).statusCode).toBe(204);
    expectProblem(await verify(token), 401, 'invalid_code');
    expect((await me(user.accessToken))['email_verified']).toBe(true);
  });

  it('20 redemptions at once: one succeeds, and one verified event', async () => {
    const email = `${uniqueUsername('race')}@example.com`;
    const user = await signUpWith(email);
    const token = await lastVerificationToken(t, email);
    const responses = await Promise.all(Array.from({ length: 20 }, () => verify(token)));
    expect(responses.filter((response) => response.statusCode === 204)).toHaveLength(1);
    for (const response of responses.filter((candidate) => candidate.statusCode !== 204)) expectProblem(response, 401, 'invalid_code');
    expect(t.events.filter((event) => event.type === 'email.verified' && event.userId === user.userId)).toHaveLength(1);
  });

  it('expires after 24 hours', async () => {
    const email = `${uniqueUsername('late')}@example.com`;
    const user = await signUpWith(email);
    const token = await lastVerificationToken(t, email);
    t.clock.advanceSeconds(24 * 60 * 60 + 1);
    expectProblem(await verify(token), 401, 'invalid_code');
    const signedIn = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(await loginForMfaToken(t, user)));
    expect((await me(signedIn.json().access_token))['email_verified']).toBe(false);
  });

  it('verifies only the account it was sent for: two accounts with one address, one link each', async () => {
    const email = `${uniqueUsername('shared')}@example.com`;
    const first = await signUpWith(email);
    const firstToken = await lastVerificationToken(t, email);
    t.clock.advanceSeconds(1);
    const second = await signUpWith(email);
    const secondToken = await lastVerificationToken(t, email);
    expect(secondToken).not.toBe(firstToken);
    expect((await verify(firstToken)).statusCode).toBe(204);
    expect((await me(first.accessToken))['email_verified']).toBe(true);
    expect((await me(second.accessToken))['email_verified']).toBe(false);
    expect((await verify(secondToken)).statusCode).toBe(204);
    expect((await me(second.accessToken))['email_verified']).toBe(true);
  });

  it('verifies nothing once the account’s address changed since', async () => {
    const email = `${uniqueUsername('moved')}@example.com`;
    const user = await signUpWith(email);
    const token = await lastVerificationToken(t, email);
    const newEmail = `${uniqueUsername('moved-to')}@example.com`;
    const changed = await t.app.inject({ method: 'PUT', url: '/v1/me/email', payload: { email: newEmail }, headers: { 'content-type': 'application/json', ...bearer(user.accessToken) } });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().user).toMatchObject({ email: newEmail, email_verified: false });
    expectProblem(await verify(token), 401, 'invalid_code');
    expect((await me(user.accessToken))['email_verified']).toBe(false);
    // The link mailed to the new address verifies it.
    await verifyAddress(t, newEmail);
    expect(await me(user.accessToken)).toMatchObject({ email: newEmail, email_verified: true });
  });

  it('refuses made-up, malformed and oversized tokens with a clear error, never a 500', async () => {
    for (const token of ['', 'tfv_', `tfv_${'A'.repeat(43)}`, 'not a token', `tfv_${'A'.repeat(42)}=`, '\u0000']) expectProblem(await verify(token), 401, 'invalid_code');
    expectProblem(await verify('x'.repeat(200)), 400, 'invalid_request');
    expectProblem(await postJson(t.app, '/v1/email/verify', { token: 42 }), 400, 'invalid_request');
  });
});

describe('asking for a new link, and changing the address', () => {
  it('POST /v1/me/email/verification sends a new link (the old one dies), at most once a minute', async () => {
    const email = `${uniqueUsername('again')}@example.com`;
    const user = await signUpWith(email);
    const first = await lastVerificationToken(t, email);
    t.clock.advanceSeconds(1);
    const resend = await t.app.inject({ method: 'POST', url: '/v1/me/email/verification', headers: bearer(user.accessToken) });
    expect(resend.statusCode, resend.body).toBe(202);
    const second = await lastVerificationToken(t, email);
    expect(second).not.toBe(first);
    expectProblem(await verify(first), 401, 'invalid_code');
    const tooSoon = await t.app.inject({ method: 'POST', url: '/v1/me/email/verification', headers: bearer(user.accessToken) });
    expectProblem(tooSoon, 429, 'too_many_attempts');
    expect(Number(tooSoon.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await verify(second)).statusCode).toBe(204);
    t.clock.advanceSeconds(61);
    expectProblem(await t.app.inject({ method: 'POST', url: '/v1/me/email/verification', headers: bearer(user.accessToken) }), 400, 'invalid_request');
  });

  it('PUT /v1/me/email needs a recent second factor, and tells the old verified address', async () => {
    const email = `${uniqueUsername('old')}@example.com`;
    const user = await signUpWith(email);
    await verifyAddress(t, email);
    t.clock.advanceSeconds(6 * 60);
    const newEmail = `${uniqueUsername('new')}@example.com`;
    const put = (token: string) => t.app.inject({ method: 'PUT', url: '/v1/me/email', payload: { email: newEmail }, headers: { 'content-type': 'application/json', ...bearer(token) } });
    expectProblem(await put(user.accessToken), 401, 'insufficient_authentication');
    const fresh = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(user.accessToken));
    expect(fresh.statusCode, fresh.body).toBe(200);
    expect((await put(fresh.json().access_token)).statusCode).toBe(200);
    const notices = (await mailTo(email)).filter((message) => message.purpose === 'notice');
    expect(notices.map((message) => message.body).join('\n')).toContain('e-mail address of your account was changed');
    expect(notices.map((message) => message.body).join('\n')).not.toContain(newEmail);
    expect((await mailTo(newEmail)).map((message) => message.purpose)).toEqual(['email_verification']);
    expectProblem(await t.app.inject({ method: 'PUT', url: '/v1/me/email', payload: { email: 'not an address' }, headers: { 'content-type': 'application/json', ...bearer(fresh.json().access_token) } }), 400, 'invalid_request');
  });
});

describe('the hosted page /verify-email', () => {
  it('a GET shows a button and changes nothing (mail scanners follow links); the button’s POST verifies', async () => {
    const email = `${uniqueUsername('page')}@example.com`;
    const user = await signUpWith(email);
    const token = await lastVerificationToken(t, email);
    const page = await t.app.inject({ method: 'GET', url: `/verify-email?token=${token}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Confirm my address');
    expect((await me(user.accessToken))['email_verified']).toBe(false);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
    const cookie = [page.headers['set-cookie']].flat().map((value) => String(value).split(';')[0]).join('; ');
    const posted = await t.app.inject({ method: 'POST', url: '/verify-email', payload: `csrf=${csrf}&token=${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie } });
    expect(posted.statusCode, posted.body).toBe(200);
    expect(posted.body).toContain('Your address is confirmed');
    expect((await me(user.accessToken))['email_verified']).toBe(true);
  });

  it('JW-14: only this page takes a token in its URL, and only the link’s own parameter', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/verify-email?token=tfv_short' })).statusCode).toBe(400);
    expectProblem(await t.app.inject({ method: 'GET', url: '/verify-email?access_token=abc' }), 401, 'invalid_token');
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/me?token=abc' }), 401, 'invalid_token');
    expectProblem(await t.app.inject({ method: 'POST', url: '/verify-email?token=abc', payload: {}, headers: { 'content-type': 'application/json' } }), 401, 'invalid_token');
  });
});
