// Account recovery without bypassing 2FA (MG-01..MG-03).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgotPasswordAnswer } from '../../src/flows/account/password-reset.js';
import { bearer, expectProblem, getJson, postJson, registerUser, signIn, signUp, totpCode, uniqueUsername } from '../helpers/flow.js';
import { enrollDestination, uniquePhone } from '../helpers/otp.js';
import { lastResetCode, lastSentCode, outboxMessages, verifyAddress } from '../helpers/outbox.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const forgot = (username: string) => postJson(t.app, '/v1/password/forgot', { username });
const reset = (username: string, code: string, newPassword = 'a completely new passphrase') => postJson(t.app, '/v1/password/reset', { username, code, new_password: newPassword });

/** A signed-up user with a verified e-mail address, where reset codes go. */
async function userWithEmail() {
  const email = `${uniqueUsername('mail')}@example.com`;
  const registered = await registerUser(t, { email });
  await verifyAddress(t, email);
  const confirm = await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
  return { ...registered, email, accessToken: confirm.json().access_token as string, refreshToken: confirm.json().refresh_token as string };
}

const resetCodeFor = (destination: string): Promise<string> => lastResetCode(t, destination);

describe('POST /v1/password/forgot', () => {
  it('MG-01/LG-01: answers the same, byte for byte, for an account with an address, without one, and for nobody', async () => {
    const withEmail = await userWithEmail();
    const without = await signUp(t);
    const responses = [await forgot(withEmail.username), await forgot(without.username), await forgot(uniqueUsername('nobody')), await forgot('!!')];
    for (const response of responses) {
      expect(response.statusCode).toBe(202);
      expect(response.body).toBe(responses[0]!.body);
    }
    expect(responses[0]!.json()).toEqual({ message: forgotPasswordAnswer });
    expect(responses[0]!.body).not.toContain(withEmail.email);
  });

  it('sends a reset code to the account’s verified e-mail address, or else to the phone of its SMS factor', async () => {
    const user = await userWithEmail();
    await forgot(user.username);
    expect(await resetCodeFor(user.email)).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);

    const phoneUser = await signUp(t);
    const enroll = (await postJson(t.app, '/v1/factors', { type: 'sms', phone: '+14155550177' }, bearer(phoneUser.accessToken))).json();
    const { lastSentCode } = await import('../helpers/outbox.js');
    await postJson(t.app, `/v1/factors/${enroll.factor_id}/verify`, { code: await lastSentCode(t, '+14155550177') }, bearer(phoneUser.accessToken));
    t.clock.advanceSeconds(31);
    await forgot(phoneUser.username);
    expect(await resetCodeFor('+14155550177')).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
  });
});

describe('POST /v1/password/reset', () => {
  it('MG-01: sets the password, signs nobody in, ends every session, keeps the factors — the next login still needs the second factor', async () => {
    const user = await userWithEmail();
    await forgot(user.username);
    const response = await reset(user.username, await resetCodeFor(user.email));
    expect(response.statusCode, response.body).toBe(204);
    expect(response.body).toBe('');
    expect(response.headers['set-cookie']).toBeUndefined();
    expectProblem(await getJson(t.app, '/v1/me', bearer(user.accessToken)), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken }), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/login', { username: user.username, password: user.password }), 401, 'invalid_credentials');
    const login = (await postJson(t.app, '/v1/login', { username: user.username, password: 'a completely new passphrase' })).json();
    expect(login).toMatchObject({ next: 'verify', factors: [{ id: user.factorId, type: 'totp' }] });
    expect(Object.keys(login)).not.toContain('access_token');
    expect(t.events.some((event) => event.type === 'password.reset' && event.userId === user.userId)).toBe(true);
  });

  it('MG-02: a code works once, for its own account only, and only for 15 minutes', async () => {
    const user = await userWithEmail();
    const other = await userWithEmail();
    await forgot(user.username);
    const code = await resetCodeFor(user.email);
    expectProblem(await reset(other.username, code), 401, 'invalid_code');
    expect((await reset(user.username, code)).statusCode).toBe(204);
    expectProblem(await reset(user.username, code, 'yet another new passphrase'), 401, 'invalid_code');

    await forgot(other.username);
    const late = await resetCodeFor(other.email);
    t.clock.advanceSeconds(15 * 60 + 1);
    expectProblem(await reset(other.username, late), 401, 'invalid_code');
  });

  it('MG-02: asking again replaces the previous code; wrong codes count against the account; five tries burn the code', async () => {
    const user = await userWithEmail();
    await forgot(user.username);
    const first = await resetCodeFor(user.email);
    t.clock.advanceSeconds(1); // so "newest message" is well defined
    await forgot(user.username);
    const second = await resetCodeFor(user.email);
    expect(second).not.toBe(first);
    expectProblem(await reset(user.username, first), 401, 'invalid_code');
    // A real account's failure is counted off the answer's path (it must answer as fast as a name nobody has).
    await t.ctx.background.flush();
    const before = (await t.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow()).failed_attempts;
    for (let i = 0; i < 4; i += 1) expectProblem(await reset(user.username, 'AAAAA-AAAAA-AAAAA-AAAAA'), 401, 'invalid_code');
    await t.ctx.background.flush();
    const after = (await t.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow()).failed_attempts;
    expect(after).toBe(before + 4);
    expectProblem(await reset(user.username, second), 401, 'invalid_code'); // the sixth try, even right, finds the code spent
  });

  it('applies the password policy to the new password', async () => {
    const user = await userWithEmail();
    await forgot(user.username);
    expectProblem(await reset(user.username, await resetCodeFor(user.email), 'password1234'), 400, 'weak_password');
  });

  it('MG-03: a mailbox alone cannot remove or replace factors — the reset leaves them as they were', async () => {
    const user = await userWithEmail();
    const before = await t.ctx.db.selectFrom('factors').select(['id', 'status']).where('user_id', '=', user.userId).execute();
    await forgot(user.username);
    await reset(user.username, await resetCodeFor(user.email));
    const after = await t.ctx.db.selectFrom('factors').select(['id', 'status']).where('user_id', '=', user.userId).execute();
    expect(after).toEqual(before);
    const signedIn = await signIn(t, { username: user.username, password: 'a completely new passphrase', secret: user.secret });
    expect((await getJson(t.app, '/v1/me', bearer(signedIn.accessToken))).statusCode).toBe(200);
  });
});

describe('TWOFOLD_PASSWORD_RESET: where reset codes may go, or nowhere', () => {
  /** A user with an address (unless `email` is false) and an active SMS factor on `phone`. */
  async function userWithAddressAndPhone(instance: TestTwofold, phone: string, email: string | undefined) {
    const registered = await registerUser(instance, email === undefined ? {} : { email });
    const confirm = await postJson(instance.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(instance, registered.secret) }, bearer(registered.mfaToken));
    const accessToken = confirm.json().access_token as string;
    const enroll = await enrollDestination(instance, accessToken, { type: 'sms', phone });
    expect(enroll.statusCode, enroll.body).toBe(201);
    const verified = await postJson(instance.app, `/v1/factors/${enroll.json().factor_id}/verify`, { code: await lastSentCode(instance, phone) }, bearer(accessToken));
    expect(verified.statusCode, verified.body).toBe(200);
    instance.clock.advanceSeconds(31);
    return registered;
  }

  const resetMessages = async (instance: TestTwofold, destination: string) =>
    (await outboxMessages(instance, destination)).filter((message) => message.purpose === 'password_reset');

  it('MG-01: off — asking for a code and using one are refused (403 forbidden), nothing is sent, and the pages say so', async () => {
    const off = await startTestTwofold({ env: { TWOFOLD_PASSWORD_RESET: 'off' } });
    try {
      const email = `${uniqueUsername('off')}@example.com`;
      const user = await userWithAddressAndPhone(off, uniquePhone(), email);
      const asked = expectProblem(await postJson(off.app, '/v1/password/forgot', { username: user.username }), 403, 'forbidden');
      expect(asked.detail).toBe('Password reset is not offered on this server; ask its administrator for help.');
      expectProblem(await postJson(off.app, '/v1/password/reset', { username: user.username, code: 'AAAAA-AAAAA-AAAAA-AAAAA', new_password: 'a completely new passphrase' }), 403, 'forbidden');
      await off.ctx.background.flush();
      expect(await resetMessages(off, email)).toEqual([]);
      expect(off.events.some((event) => event.type === 'password.reset_requested')).toBe(false);
      for (const path of ['/forgot-password', '/reset-password']) {
        const page = await off.app.inject({ method: 'GET', url: path });
        expect(page.statusCode).toBe(403);
        expect(page.body).toContain('Password reset is not offered on this server');
        expect(page.body).not.toContain('<form');
      }
      expect((await off.app.inject({ method: 'GET', url: '/sign-in' })).body).not.toContain('/forgot-password');
      expect((await t.app.inject({ method: 'GET', url: '/sign-in' })).body).toContain('/forgot-password');
    } finally {
      await off.close();
    }
  });

  it('MG-02: sms: the code goes to the verified phone even when the account has an address; email: to the address only', async () => {
    const smsOnly = await startTestTwofold({ env: { TWOFOLD_PASSWORD_RESET: 'sms' } });
    const emailOnly = await startTestTwofold({ env: { TWOFOLD_PASSWORD_RESET: 'email' } });
    try {
      const [phone, email] = [uniquePhone(), `${uniqueUsername('sms')}@example.com`];
      const bySms = await userWithAddressAndPhone(smsOnly, phone, email);
      expect((await postJson(smsOnly.app, '/v1/password/forgot', { username: bySms.username })).statusCode).toBe(202);
      expect(await lastResetCode(smsOnly, phone)).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
      expect(await resetMessages(smsOnly, email)).toEqual([]);

      const phoneOnly = uniquePhone();
      const noAddress = await userWithAddressAndPhone(emailOnly, phoneOnly, undefined);
      expect((await postJson(emailOnly.app, '/v1/password/forgot', { username: noAddress.username })).statusCode).toBe(202);
      await emailOnly.ctx.background.flush();
      expect(await resetMessages(emailOnly, phoneOnly)).toEqual([]);
      expect(emailOnly.events.find((event) => event.type === 'password.reset_requested' && event.userId === noAddress.userId)?.details).toMatchObject({ sent_to: 'none' });
    } finally {
      await smsOnly.close();
      await emailOnly.close();
    }
  });

  it('OB-04: no text message once SMS factors are disabled: the phone of a factor enrolled before is not used for reset codes', async () => {
    const before = await startTestTwofold();
    const phone = uniquePhone();
    const user = await userWithAddressAndPhone(before, phone, undefined);
    await before.stop();
    const after = await startTestTwofold({ restartOf: before, clock: before.clock, env: { TWOFOLD_FACTORS: 'totp,webauthn,recovery' } });
    try {
      expect((await postJson(after.app, '/v1/password/forgot', { username: user.username })).statusCode).toBe(202);
      await after.ctx.background.flush();
      expect(await resetMessages(after, phone)).toEqual([]);
    } finally {
      await after.close();
    }
  });
});
