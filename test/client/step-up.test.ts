// twofold/client and RFC 9470 step-up against a real server: a sensitive change with an old second
// factor throws StepUpRequiredError (parsed from the WWW-Authenticate challenge); stepUp() proves
// a factor, stores the new access token, and the retried change goes through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepUpRequiredError, TwofoldClientError, type TwofoldClient } from '../../src/client/index.js';
import { createTestClient, softWebAuthn, startListeningTwofold, type ListeningTwofold } from '../helpers/client-server.js';
import { strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { uniquePhone } from '../helpers/otp.js';
import { lastSentCode } from '../helpers/outbox.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';

let t: ListeningTwofold;

beforeAll(async () => {
  t = await startListeningTwofold();
});

afterAll(async () => {
  await t.close();
});

async function signUp(client: TwofoldClient) {
  const registration = await client.register({ username: uniqueUsername('stepup'), password: strongPassword });
  const result = await registration.pending.confirmFactor(registration.totp.factor_id, { code: totpCode(t, registration.totp.secret) });
  return { username: registration.user.username, secret: registration.totp.secret, factorId: registration.totp.factor_id, recoveryCodes: result.recoveryCodes! };
}

/** Past the server's 300 s step-up window, still inside the 600 s access-token life. */
const makeSecondFactorStale = () => t.clock.advanceSeconds(301);

describe('step-up (RFC 9470)', () => {
  it('SS-09: removeFactor() with a stale second factor throws StepUpRequiredError; stepUp() then the retry removes it', async () => {
    const { client, recorder } = createTestClient(t);
    const { secret } = await signUp(client);
    const backup = await client.enrollFactor({ type: 'totp', label: 'Backup app' });
    await client.confirmFactor(backup.factor_id, { code: totpCode(t, backup.secret!) });
    makeSecondFactorStale();
    const before = (await client.getTokens())!;

    const error = await client.removeFactor(backup.factor_id).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StepUpRequiredError);
    expect(error).toBeInstanceOf(TwofoldClientError);
    expect(error).toMatchObject({ code: 'insufficient_authentication', status: 401, maxAgeSeconds: 300, acrValues: ['aal2'] });
    expect(recorder.calls.at(-1)!.headers.get('authorization')).toBe(`Bearer ${before.accessToken}`);
    // A step-up challenge is not a dead token: no refresh was attempted, the tokens are kept.
    expect(recorder.paths()).not.toContain('/v1/token/refresh');
    expect(await client.getTokens()).toEqual(before);

    const steppedUp = await client.stepUp({ type: 'totp', code: totpCode(t, secret) });
    expect(steppedUp.accessToken).not.toBe(before.accessToken);
    expect(steppedUp.refreshToken).toBe(before.refreshToken);
    expect(await client.getTokens()).toEqual(steppedUp);

    await client.removeFactor(backup.factor_id);
    expect((await client.listFactors()).map((factor) => factor.id)).not.toContain(backup.factor_id);
  });

  it('SS-09 / RC-01/05: regenerateRecoveryCodes() needs a step-up; a recovery code can provide it', async () => {
    const { client } = createTestClient(t);
    const { recoveryCodes } = await signUp(client);
    makeSecondFactorStale();

    await expect(client.regenerateRecoveryCodes()).rejects.toBeInstanceOf(StepUpRequiredError);
    await client.stepUp({ type: 'recovery_code', code: recoveryCodes[0]! });
    const fresh = await client.regenerateRecoveryCodes();
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(recoveryCodes[1]);
    expect((await client.getMe()).recovery_codes_remaining).toBe(10);
  });

  it('SS-09: stepUp() with an SMS code: challengeFactor() sends it with the access token', async () => {
    const { client } = createTestClient(t);
    await signUp(client);
    const phone = uniquePhone();
    const sms = await client.enrollFactor({ type: 'sms', phone });
    await client.confirmFactor(sms.factor_id, { code: await lastSentCode(t, phone), challengeId: sms.challenge_id! });
    makeSecondFactorStale();

    await expect(client.revokeOtherSessions()).rejects.toBeInstanceOf(StepUpRequiredError);
    const challenge = await client.challengeFactor(sms.factor_id);
    await client.stepUp({ type: 'sent_code', challengeId: challenge.challenge_id, code: await lastSentCode(t, phone) });
    expect(await client.revokeOtherSessions()).toBe(0);
    expect((await client.getMe()).session.amr).toEqual(['pwd', 'sms', 'mfa']);
  });

  it('SS-09: stepUp() with a passkey runs the WebAuthn prompt against a step-up challenge', async () => {
    const authenticator = createSoftAuthenticator();
    const { client } = createTestClient(t, { webauthn: softWebAuthn(authenticator) });
    const { username } = await signUp(client);
    const passkey = await client.enrollPasskey();
    makeSecondFactorStale();

    const change = { currentPassword: strongPassword, newPassword: 'a completely different passphrase' };
    await expect(client.changePassword(change)).rejects.toBeInstanceOf(StepUpRequiredError);
    await client.stepUp({ type: 'passkey', factorId: passkey.id });
    await client.changePassword(change);
    await expect(client.login({ username, password: change.newPassword })).resolves.toMatchObject({ next: 'verify' });
  });

  it('PW-15/PW-18: removePassword() after stepUp() with a passkey, getMe().has_password, and changePassword() with no current password sets one again', async () => {
    const authenticator = createSoftAuthenticator();
    // Two passkeys, on two devices (recovery codes would count only with a verified address that a
    // reset could reach): the second device registers, the first keeps answering.
    let registering = authenticator;
    const { client } = createTestClient(t, { webauthn: { ...softWebAuthn(authenticator), startRegistration: async ({ optionsJSON }) => registering.register(optionsJSON) } });
    const { username } = await signUp(client);
    const passkey = await client.enrollPasskey();
    registering = createSoftAuthenticator();
    await client.enrollPasskey();
    makeSecondFactorStale();

    await expect(client.removePassword()).rejects.toBeInstanceOf(StepUpRequiredError);
    await client.stepUp({ type: 'passkey', factorId: passkey.id });
    await client.removePassword();
    expect((await client.getMe()).has_password).toBe(false);
    await expect(client.login({ username, password: strongPassword })).rejects.toMatchObject({ code: 'invalid_credentials' });
    await client.changePassword({ newPassword: 'a password set once more' });
    expect((await client.getMe()).has_password).toBe(true);
    await expect(client.login({ username, password: 'a password set once more' })).resolves.toMatchObject({ next: 'verify' });
  });

  it('listSessions() marks this session; renameFactor() sets a label; revokeSession() of this session ends it like a logout', async () => {
    const { client } = createTestClient(t);
    await signUp(client);
    const sessions = await client.listSessions();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ current: true, acr: 'aal2' });
    await client.renameFactor((await client.listFactors())[0]!.id, 'My phone app');
    expect((await client.listFactors())[0]!.label).toBe('My phone app');

    await client.revokeSession(sessions[0]!.id);
    await expect(client.getMe()).rejects.toMatchObject({ code: 'invalid_token' });
    expect(await client.getTokens()).toBeUndefined();
  });
});
