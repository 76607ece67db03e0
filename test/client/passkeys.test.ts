// twofold/client's passkeys against a real server, with the software authenticator injected as
// the `webauthn` option (what @simplewebauthn/browser does in a browser).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwofoldClient, TwofoldClientError } from '../../src/client/index.js';
import { createTestClient, softWebAuthn, startListeningTwofold, type ListeningTwofold } from '../helpers/client-server.js';
import { strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';

let t: ListeningTwofold;

beforeAll(async () => {
  t = await startListeningTwofold();
});

afterAll(async () => {
  await t.close();
});

describe('passkeys through the client', () => {
  it('WA-03: pending.enrollPasskey() makes a passkey the first factor; verifyPasskey() signs in with it (amr swk: a key, not a proven hardware key)', async () => {
    const authenticator = createSoftAuthenticator();
    const { client } = createTestClient(t, { webauthn: softWebAuthn(authenticator) });
    const registration = await client.register({ username: uniqueUsername('passkey'), password: strongPassword });

    const signedUp = await registration.pending.enrollPasskey({ label: 'Laptop' });
    expect(signedUp.factor).toMatchObject({ type: 'webauthn', status: 'active', label: 'Laptop' });
    expect(signedUp.recoveryCodes).toHaveLength(10);
    expect(authenticator.credentials()).toHaveLength(1);

    const { client: device, recorder } = createTestClient(t, { webauthn: softWebAuthn(authenticator) });
    const pending = await device.login({ username: registration.user.username, password: strongPassword });
    const passkey = pending.factors.find((factor) => factor.type === 'webauthn')!;
    await pending.verifyPasskey(passkey.id);

    expect(recorder.summary()).toEqual(['POST /v1/login 200', 'POST /v1/mfa/challenge 200', 'POST /v1/mfa/verify 200']);
    expect((await device.getMe()).session).toMatchObject({ acr: 'aal2', amr: ['pwd', 'swk', 'mfa'] });
    expect(authenticator.signCount(authenticator.lastCredentialId())).toBe(1);
  });

  it('WA-06: enrollPasskey() adds a passkey to a signed-in account (with a recent second factor)', async () => {
    const authenticator = createSoftAuthenticator({ backupEligible: true });
    const { client } = createTestClient(t, { webauthn: softWebAuthn(authenticator) });
    const registration = await client.register({ username: uniqueUsername('passkey'), password: strongPassword });
    await registration.pending.confirmFactor(registration.totp.factor_id, { code: totpCode(t, registration.totp.secret) });

    const factor = await client.enrollPasskey({ label: 'Phone' });

    expect(factor).toMatchObject({ type: 'webauthn', status: 'active', label: 'Phone' });
    expect((await client.listFactors()).map((listed) => listed.type).sort()).toEqual(['totp', 'webauthn']);
    const pending = await client.login({ username: registration.user.username, password: strongPassword });
    await pending.verifyPasskey(factor.id);
    expect((await client.getMe()).session.amr).toEqual(['pwd', 'swk', 'mfa']);
  });

  it('a failed or cancelled passkey prompt is passkey_failed, with the prompt\'s error as the cause', async () => {
    const authenticator = createSoftAuthenticator();
    const { client } = createTestClient(t, { webauthn: softWebAuthn(authenticator) });
    const registration = await client.register({ username: uniqueUsername('passkey'), password: strongPassword });
    await registration.pending.enrollPasskey();

    const stranger = createSoftAuthenticator(); // holds no credential of this account: NotAllowedError, as a browser would
    const { client: device } = createTestClient(t, { webauthn: softWebAuthn(stranger) });
    const pending = await device.login({ username: registration.user.username, password: strongPassword });
    const error = await pending.verifyPasskey(pending.factors[0]!.id).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TwofoldClientError);
    expect(error).toMatchObject({ code: 'passkey_failed', status: undefined });
    expect((error as Error).cause).toMatchObject({ domException: 'NotAllowedError' });
  });

  it('without a webauthn option, @simplewebauthn/browser is loaded only at the first passkey prompt (and fails cleanly in Node)', async () => {
    const client = createTwofoldClient({ baseUrl: t.baseUrl, now: t.clock.now });
    const registration = await client.register({ username: uniqueUsername('passkey'), password: strongPassword });
    const error = await registration.pending.enrollPasskey().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TwofoldClientError);
    expect(error).toMatchObject({ code: 'passkey_failed' });
    expect((error as TwofoldClientError).detail).toMatch(/WebAuthn is not supported/);
  });
});
