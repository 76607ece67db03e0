// twofold/client and the account routes against a real server on a socket: the password reset
// (requested, read from the outbox, never a sign-in), remembered browsers listed and forgotten,
// and the account's security events paged backwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TwofoldClientError, type SecurityEvent, type TwofoldClient } from '../../src/client/index.js';
import { createTestClient, startListeningTwofold, type ListeningTwofold } from '../helpers/client-server.js';
import { strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { lastResetCode, lastVerificationToken, verifyAddress } from '../helpers/outbox.js';

let t: ListeningTwofold;

beforeAll(async () => {
  t = await startListeningTwofold();
});

afterAll(async () => {
  await t.close();
});

const newPassword = 'a completely new passphrase';

/** Register with an e-mail address (where reset codes go) and confirm the app: signed in at aal2. */
async function signUpWithEmail(client: TwofoldClient) {
  const username = uniqueUsername('account');
  const email = `${username}@example.com`;
  const registration = await client.register({ username, password: strongPassword, email });
  await verifyAddress(t, email);
  await registration.pending.confirmFactor(registration.totp.factor_id, { code: totpCode(t, registration.totp.secret) });
  return { username, email, secret: registration.totp.secret, factorId: registration.totp.factor_id };
}

const resetCodeFor = (destination: string): Promise<string> => lastResetCode(t, destination);

describe('createTwofoldClient(): password reset', () => {
  it('MG-01/LG-01: requestPasswordReset() returns the same message for an account and for nobody, and sends no token', async () => {
    const { client, recorder } = createTestClient(t);
    const user = await signUpWithEmail(client);

    const forAccount = await client.requestPasswordReset({ username: user.username });
    const forNobody = await client.requestPasswordReset({ username: uniqueUsername('nobody') });

    expect(forAccount).toEqual(expect.any(String));
    expect(forNobody).toBe(forAccount);
    expect(forAccount).not.toContain(user.email);
    const forgotCalls = recorder.calls.filter((call) => call.path === '/v1/password/forgot');
    expect(forgotCalls.map((call) => call.status)).toEqual([202, 202]);
    // Signed in or not, the session's token never goes to the unauthenticated routes.
    for (const call of forgotCalls) expect(call.headers.get('authorization')).toBeNull();
    expect(await resetCodeFor(user.email)).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
  });

  it('MG-01: resetPassword() signs nobody in and stores no tokens; the sessions end and the next login still needs the second factor', async () => {
    const { client, recorder } = createTestClient(t);
    const user = await signUpWithEmail(client);
    t.clock.advanceSeconds(30);
    const remembered = await (await client.login({ username: user.username, password: strongPassword })).verifyTotpCode(totpCode(t, user.secret), { rememberDevice: true });
    const before = (await client.getTokens())!;

    await client.requestPasswordReset({ username: user.username });
    await client.resetPassword({ username: user.username, code: await resetCodeFor(user.email), newPassword });

    const resetCall = recorder.calls.at(-1)!;
    expect(resetCall).toMatchObject({ method: 'POST', path: '/v1/password/reset', status: 204 });
    expect(resetCall.headers.get('authorization')).toBeNull();
    expect(JSON.parse(resetCall.body!)).toEqual({ username: user.username, code: expect.any(String), new_password: newPassword });
    // The reset returns no tokens and leaves the stored ones alone; the server has ended their session.
    expect(await client.getTokens()).toEqual(before);
    const ended = await client.getMe().catch((error: unknown) => error);
    expect(ended).toMatchObject({ code: 'invalid_token', status: 401 });
    expect(await client.getTokens()).toBeUndefined();

    const { client: device } = createTestClient(t);
    const oldPassword = await device.login({ username: user.username, password: strongPassword }).catch((error: unknown) => error);
    expect(oldPassword).toMatchObject({ code: 'invalid_credentials', status: 401 });
    // The reset ended the remembered browser too: its token no longer stands in for the second factor.
    const withDevice = await (await device.login({ username: user.username, password: newPassword })).verify({ type: 'device_token', deviceToken: remembered.deviceToken! }).catch((error: unknown) => error);
    expect(withDevice).toBeInstanceOf(TwofoldClientError);
    expect(withDevice).toMatchObject({ code: 'invalid_code', status: 401 });
    expect(await device.getTokens()).toBeUndefined();

    const pending = await device.login({ username: user.username, password: newPassword });
    expect(pending.next).toBe('verify');
    expect(pending.factors).toEqual([expect.objectContaining({ id: user.factorId, type: 'totp' })]);
    expect(await device.getTokens()).toBeUndefined();
    t.clock.advanceSeconds(30);
    await pending.verifyTotpCode(totpCode(t, user.secret));
    expect((await device.getMe()).session).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    expect(await device.listTrustedDevices()).toEqual([]);
  });

  it('MG-02: resetPassword() with a wrong or used code is invalid_code; a weak new password is weak_password with its reasons', async () => {
    const { client } = createTestClient(t);
    const user = await signUpWithEmail(client);
    await client.requestPasswordReset({ username: user.username });
    const code = await resetCodeFor(user.email);

    const wrong = await client.resetPassword({ username: user.username, code: 'AAAAA-AAAAA-AAAAA-AAAAA', newPassword }).catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(TwofoldClientError);
    expect(wrong).toMatchObject({ code: 'invalid_code', status: 401 });

    const weak = await client.resetPassword({ username: user.username, code, newPassword: 'password1234' }).catch((error: unknown) => error);
    expect(weak).toMatchObject({ code: 'weak_password', status: 400 });
    expect((weak as TwofoldClientError).problem?.reasons).toEqual(expect.any(Array));

    await client.resetPassword({ username: user.username, code, newPassword });
    const reused = await client.resetPassword({ username: user.username, code, newPassword: 'yet another new passphrase' }).catch((error: unknown) => error);
    expect(reused).toMatchObject({ code: 'invalid_code', status: 401 });
  });
});

describe('createTwofoldClient(): the e-mail address', () => {
  it('RC-02: requestEmailVerification() mails a new link; verifyEmail() redeems it without a token; changeEmail() makes a new address unverified', async () => {
    const { client, recorder } = createTestClient(t);
    const username = uniqueUsername('verify');
    const email = `${username}@example.com`;
    const registration = await client.register({ username, password: strongPassword, email });
    expect(registration.user).toMatchObject({ email, email_verified: false });
    await registration.pending.confirmFactor(registration.totp.factor_id, { code: totpCode(t, registration.totp.secret) });
    t.clock.advanceSeconds(1);
    expect(await client.requestEmailVerification()).toEqual(expect.any(String));
    await client.verifyEmail({ token: await lastVerificationToken(t, email) });
    const verifyCall = recorder.calls.find((call) => call.path === '/v1/email/verify')!;
    expect(verifyCall.status).toBe(204);
    expect(verifyCall.headers.get('authorization')).toBeNull();
    expect((await client.getMe()).user).toMatchObject({ email, email_verified: true });

    const moved = `${username}-new@example.com`;
    expect(await client.changeEmail({ email: moved })).toMatchObject({ email: moved, email_verified: false });
    const reused = await client.verifyEmail({ token: await lastVerificationToken(t, email) }).catch((error: unknown) => error);
    expect(reused).toMatchObject({ code: 'invalid_code', status: 401 });
  });
});

describe('createTwofoldClient(): remembered browsers', () => {
  it('listTrustedDevices() shows the browser remembered at a sign-in; forgetTrustedDevice() ends it, and its token stops working', async () => {
    const { client, recorder } = createTestClient(t);
    const user = await signUpWithEmail(client);
    expect(await client.listTrustedDevices()).toEqual([]);
    t.clock.advanceSeconds(30);
    const remembered = await (await client.login({ username: user.username, password: strongPassword })).verifyTotpCode(totpCode(t, user.secret), { rememberDevice: true });

    const devices = await client.listTrustedDevices();
    expect(devices).toEqual([{ id: expect.any(String), label: expect.toBeOneOf([expect.any(String), null]), created_at: expect.any(String), expires_at: expect.any(String), last_used_at: null }]);
    const [device] = devices;
    expect(Date.parse(device!.expires_at) - Date.parse(device!.created_at)).toBe(remembered.deviceExpiresInSeconds! * 1000);

    await client.forgetTrustedDevice(device!.id);
    expect(recorder.summary().at(-1)).toBe(`DELETE /v1/trusted-devices/${encodeURIComponent(device!.id)} 204`);
    expect(await client.listTrustedDevices()).toEqual([]);
    const { client: later } = createTestClient(t);
    const refused = await (await later.login({ username: user.username, password: strongPassword })).verify({ type: 'device_token', deviceToken: remembered.deviceToken! }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TwofoldClientError);
    expect(refused).toMatchObject({ code: 'invalid_code', status: 401 });
    expect(await later.getTokens()).toBeUndefined();

    const again = await client.forgetTrustedDevice(device!.id).catch((error: unknown) => error);
    expect(again).toMatchObject({ code: 'not_found', status: 404 });
  });

  it("MG-05: forgetTrustedDevice() with another account's device id is not_found, and that browser stays remembered", async () => {
    const { client: victim } = createTestClient(t);
    const victimUser = await signUpWithEmail(victim);
    t.clock.advanceSeconds(30);
    await (await victim.login({ username: victimUser.username, password: strongPassword })).verifyTotpCode(totpCode(t, victimUser.secret), { rememberDevice: true });
    const [victimDevice] = await victim.listTrustedDevices();

    const { client: attacker } = createTestClient(t);
    await signUpWithEmail(attacker);
    const error = await attacker.forgetTrustedDevice(victimDevice!.id).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'not_found', status: 404 });
    expect(await victim.listTrustedDevices()).toEqual([victimDevice]);
  });
});

describe('createTwofoldClient(): security events', () => {
  it('MG-04: listSecurityEvents() pages backwards with next_before until null; the pages add up to the whole list, newest first', async () => {
    const { client, recorder } = createTestClient(t);
    const user = await signUpWithEmail(client);
    for (let i = 0; i < 3; i += 1) await client.login({ username: user.username, password: `a wrong password ${i}` }).catch(() => undefined);

    const everything = await client.listSecurityEvents();
    expect(recorder.calls.at(-1)!.path).toBe('/v1/me/events');
    expect(everything.next_before).toBeNull();
    expect(everything.events.map((event) => event.type)).toEqual(expect.arrayContaining(['user.registered', 'factor.activated', 'login.completed', 'login.password_failed']));
    expect(everything.events[0]).toMatchObject({ type: 'login.password_failed', id: expect.any(String), created_at: expect.any(String), details: expect.any(Object) });
    expect(JSON.stringify(everything)).not.toContain(strongPassword);
    expect(JSON.stringify(everything)).not.toContain(user.secret);

    const paged: SecurityEvent[] = [];
    let before: string | undefined;
    for (let page = 0; page < 50; page += 1) {
      const answer = await client.listSecurityEvents({ limit: 2, ...(before === undefined ? {} : { before }) });
      expect(recorder.calls.at(-1)!.path).toBe(before === undefined ? '/v1/me/events?limit=2' : `/v1/me/events?limit=2&before=${encodeURIComponent(before)}`);
      expect(answer.events.length).toBeLessThanOrEqual(2);
      paged.push(...answer.events);
      if (answer.next_before === null) break;
      expect(answer.next_before).toBe(answer.events.at(-1)!.id);
      before = answer.next_before;
    }
    expect(everything.events.length).toBeGreaterThan(4);
    expect(paged).toEqual(everything.events);
    const ids = paged.map((event) => event.id);
    expect([...ids].sort().reverse()).toEqual(ids);
  });

  it('listSecurityEvents(): a limit or a cursor the server refuses is invalid_request (400)', async () => {
    const { client } = createTestClient(t);
    await signUpWithEmail(client);
    expect(await client.listSecurityEvents({ limit: 1000 }).catch((error: unknown) => error)).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(await client.listSecurityEvents({ before: 'not-an-id' }).catch((error: unknown) => error)).toMatchObject({ code: 'invalid_request', status: 400 });
  });
});
