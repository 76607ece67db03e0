// twofold/client against a real server on a socket: registration with the authenticator app,
// login with each kind of second factor (app, SMS, recovery code), the pending state in between.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TwofoldClientError, createTwofoldClient, type TwofoldClient } from '../../src/client/index.js';
import { createTestClient, startListeningTwofold, type ListeningTwofold } from '../helpers/client-server.js';
import { strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { uniquePhone } from '../helpers/otp.js';
import { lastSentCode } from '../helpers/outbox.js';

let t: ListeningTwofold;

beforeAll(async () => {
  t = await startListeningTwofold();
});

afterAll(async () => {
  await t.close();
});

/** Register and confirm the app: what a new person does first. */
async function signUpWithApp(client: TwofoldClient) {
  const username = uniqueUsername('client');
  const registration = await client.register({ username, password: strongPassword });
  const result = await registration.pending.confirmFactor(registration.totp.factor_id, { code: totpCode(t, registration.totp.secret) });
  return { username, secret: registration.totp.secret, factorId: registration.totp.factor_id, result };
}

describe('createTwofoldClient(): registration and sign-in', () => {
  it('register(): returns the user, the TOTP enrollment and a pending sign-in, but no tokens (LG-07)', async () => {
    const { client } = createTestClient(t);
    const username = uniqueUsername('client');
    const registration = await client.register({ username, password: strongPassword, email: `${username}@example.com` });
    expect(registration.user).toMatchObject({ username, email: `${username}@example.com` });
    expect(registration.totp).toMatchObject({ type: 'totp', status: 'pending' });
    expect(registration.totp.otpauth_uri).toMatch(/^otpauth:\/\/totp\//);
    expect(registration.totp.qr_svg).toContain('<svg');
    expect(registration.totp.secret).toMatch(/^[A-Z2-7]{32,}$/);
    expect(registration.pending.next).toBe('enroll');
    expect(registration.pending.mfaToken.split('.')).toHaveLength(3);
    expect(await client.getTokens()).toBeUndefined();
  });

  it('pending.confirmFactor(): the first app code completes the sign-in with tokens and recovery codes', async () => {
    const { client } = createTestClient(t);
    const { result } = await signUpWithApp(client);
    expect(result.factor).toMatchObject({ type: 'totp', status: 'active' });
    expect(result.recoveryCodes).toHaveLength(10);
    expect(result.tokens.refreshToken).toMatch(/^tfr_/);
    expect(result.tokens.expiresAtMs).toBe(t.clock.now() + 600_000);
    expect(await client.getTokens()).toEqual(result.tokens);
  });

  it('login() → verifyTotpCode() → getMe(): the password step gives a pending sign-in, the app code the session; tokens only in headers (JW-13/14)', async () => {
    const first = createTestClient(t).client;
    const { username, secret } = await signUpWithApp(first);
    t.clock.advanceSeconds(30);

    const { client, recorder } = createTestClient(t);
    const pending = await client.login({ username, password: strongPassword });
    expect(pending.next).toBe('verify');
    expect(pending.factors).toEqual([expect.objectContaining({ type: 'totp' })]);
    expect(await client.getTokens()).toBeUndefined();
    await pending.verifyTotpCode(totpCode(t, secret));
    const me = await client.getMe();
    expect(me.user.username).toBe(username);
    expect(me.session).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    expect(me.recovery_codes_remaining).toBe(10);
    // JW-13/14: tokens travel only in the Authorization header, and every body is JSON.
    for (const call of recorder.calls) {
      expect(call.path).not.toMatch(/token|eyJ|tfr_/i);
      if (call.body !== undefined) expect(call.headers.get('content-type')).toBe('application/json');
    }
    expect(recorder.calls.at(-1)!.headers.get('authorization')).toBe(`Bearer ${(await client.getTokens())!.accessToken}`);
  });

  it('FL-03: a pending sign-in is spent by its first success; using it again is invalid_token', async () => {
    const { client } = createTestClient(t);
    const { username, secret } = await signUpWithApp(client);
    t.clock.advanceSeconds(30);
    const pending = await client.login({ username, password: strongPassword });
    await pending.verifyTotpCode(totpCode(t, secret));
    t.clock.advanceSeconds(30);
    const again = await pending.verifyTotpCode(totpCode(t, secret)).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(TwofoldClientError);
    expect(again).toMatchObject({ code: 'invalid_token', status: 401 });
  });

  it('login(): a wrong password is invalid_credentials (401) with the problem document attached', async () => {
    const { client } = createTestClient(t);
    const { username } = await signUpWithApp(client);
    const error = await client.login({ username, password: 'not the right password at all' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TwofoldClientError);
    expect(error).toMatchObject({ code: 'invalid_credentials', status: 401, problem: { type: 'urn:twofold:error:invalid_credentials' } });
  });

  it('rememberDevice: the sign-in returns a device token that later stands in for the second factor, honestly as aal1', async () => {
    const { client } = createTestClient(t);
    const { username, secret } = await signUpWithApp(client);
    t.clock.advanceSeconds(30);
    const remembered = await (await client.login({ username, password: strongPassword })).verifyTotpCode(totpCode(t, secret), { rememberDevice: true });
    expect(remembered.deviceToken).toEqual(expect.any(String));
    expect(remembered.deviceExpiresInSeconds).toBe(30 * 24 * 3600);

    const pending = await client.login({ username, password: strongPassword });
    await pending.verify({ type: 'device_token', deviceToken: remembered.deviceToken! });
    expect((await client.getMe()).session).toMatchObject({ acr: 'aal1', amr: ['pwd', 'dev'] });
  });

  it('RC-02/04: verifyRecoveryCode() signs in with a recovery code, which then is spent', async () => {
    const { client } = createTestClient(t);
    const { username, result } = await signUpWithApp(client);
    const recoveryCode = result.recoveryCodes![0]!;

    const other = createTwofoldClient({ baseUrl: t.baseUrl, now: t.clock.now });
    await (await other.login({ username, password: strongPassword })).verifyRecoveryCode(recoveryCode);
    const me = await other.getMe();
    expect(me.recovery_codes_remaining).toBe(9);
    expect(me.session.amr).toContain('rc');

    const replay = await (await other.login({ username, password: strongPassword })).verifyRecoveryCode(recoveryCode).catch((error: unknown) => error);
    expect(replay).toMatchObject({ code: 'invalid_code', status: 401 });
  });
});

describe('createTwofoldClient(): SMS codes', () => {
  it('enrolls a phone as the first factor, then signs in with a code read from the outbox', async () => {
    const { client } = createTestClient(t);
    const phone = uniquePhone();
    const registration = await client.register({ username: uniqueUsername('sms'), password: strongPassword });
    const enrollment = await registration.pending.enrollFactor({ type: 'sms', phone, label: 'Phone' });
    expect(enrollment).toMatchObject({ type: 'sms', status: 'pending', destination: expect.any(String), challenge_id: expect.any(String) });
    const signedUp = await registration.pending.confirmFactor(enrollment.factor_id, { code: await lastSentCode(t, phone), challengeId: enrollment.challenge_id! });
    expect(signedUp.recoveryCodes).toHaveLength(10);
    expect(signedUp.factor).toMatchObject({ type: 'sms', status: 'active', label: 'Phone' });

    t.clock.advanceSeconds(31); // past the resend interval of the enrollment's code
    const { client: device } = createTestClient(t);
    const pending = await device.login({ username: registration.user.username, password: strongPassword });
    expect(pending.factors).toEqual([expect.objectContaining({ id: enrollment.factor_id, type: 'sms', destination: enrollment.destination })]);
    const challenge = await pending.challengeFactor(enrollment.factor_id);
    expect(challenge).toMatchObject({ challenge_id: expect.any(String), expires_in: 300, destination: enrollment.destination });
    await pending.verifySentCode(challenge.challenge_id, await lastSentCode(t, phone));
    expect((await device.getMe()).session.amr).toEqual(['pwd', 'sms', 'mfa']);
  });

  it('OB-03: resendCode() sends a new code and kills the previous one; too early it is 429 with retryAfterSeconds', async () => {
    const { client } = createTestClient(t);
    const phone = uniquePhone();
    const registration = await client.register({ username: uniqueUsername('sms'), password: strongPassword });
    const enrollment = await registration.pending.enrollFactor({ type: 'sms', phone });
    await registration.pending.confirmFactor(enrollment.factor_id, { code: await lastSentCode(t, phone), challengeId: enrollment.challenge_id! });

    t.clock.advanceSeconds(31);
    const pending = await client.login({ username: registration.user.username, password: strongPassword });
    const first = await pending.challengeFactor(enrollment.factor_id);
    const firstCode = await lastSentCode(t, phone);

    const tooEarly = await pending.resendCode(enrollment.factor_id).catch((error: unknown) => error);
    expect(tooEarly).toBeInstanceOf(TwofoldClientError);
    expect(tooEarly).toMatchObject({ code: 'too_many_attempts', status: 429, retryAfterSeconds: 30 });

    t.clock.advanceSeconds(31);
    const second = await pending.resendCode(enrollment.factor_id);
    const secondCode = await lastSentCode(t, phone);
    const stale = await pending.verifySentCode(first.challenge_id, firstCode).catch((error: unknown) => error);
    expect(stale).toMatchObject({ code: 'invalid_code', status: 401 });
    const signedIn = await pending.verifySentCode(second.challenge_id, secondCode);
    expect(signedIn.tokens.accessToken).toBeTruthy();
  });
});
