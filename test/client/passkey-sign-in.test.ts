// twofold/client's sign-in with a passkey alone (no username, no password) against a real server,
// with the software authenticator as the passkey prompts, and the conditional-mediation helper
// (passkeys in the username field's autofill) with a prompt that waits for the person's pick.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwofoldClient, TwofoldClientError } from '../../src/client/index.js';
import { conditionalSoftWebAuthn, createTestClient, softWebAuthn, startListeningTwofold, type ListeningTwofold } from '../helpers/client-server.js';
import { strongPassword, uniqueUsername } from '../helpers/flow.js';
import { createSoftAuthenticator, type SoftAuthenticator } from '../helpers/soft-authenticator.js';

let t: ListeningTwofold;

beforeAll(async () => {
  t = await startListeningTwofold();
});

afterAll(async () => {
  await t.close();
});

/** A new account whose first factor is a passkey of `authenticator` (a discoverable credential). */
async function accountWithPasskey(authenticator: SoftAuthenticator): Promise<{ username: string; userId: string }> {
  const { client } = createTestClient(t, { webauthn: softWebAuthn(authenticator) });
  const username = uniqueUsername('passkey-only');
  const registration = await client.register({ username, password: strongPassword });
  await registration.pending.enrollPasskey({ label: 'Laptop' });
  return { username, userId: registration.user.id };
}

const accessClaims = (accessToken: string) => decodeJwt(accessToken);

describe('signInWithPasskey(): a passkey alone', () => {
  it('WA-08, WA-09: the two passkey routes, no username or password sent; the tokens are stored and the session is aal2 with swk and mfa', async () => {
    const authenticator = createSoftAuthenticator();
    const account = await accountWithPasskey(authenticator);
    const { client, recorder } = createTestClient(t, { webauthn: softWebAuthn(authenticator) });

    const result = await client.signInWithPasskey();

    expect(recorder.summary()).toEqual(['POST /v1/passkeys/authenticate/options 200', 'POST /v1/passkeys/authenticate 200']);
    expect(recorder.calls.map((call) => call.body ?? '').join(' ')).not.toMatch(new RegExp(`${account.username}|${strongPassword}`));
    expect(recorder.calls.every((call) => !call.headers.has('authorization'))).toBe(true);
    expect(await client.getTokens()).toEqual(result.tokens);
    const claims = accessClaims(result.tokens.accessToken);
    expect(claims).toMatchObject({ sub: account.userId, acr: 'aal2' });
    expect(claims['amr']).toEqual(expect.arrayContaining(['swk', 'mfa']));
    expect((await client.getMe()).user.id).toBe(account.userId);
  });

  it('WA-10: acrValues ["phr"] is sent as acr_values and the access token says phr (a passkey is phishing resistant)', async () => {
    const authenticator = createSoftAuthenticator();
    await accountWithPasskey(authenticator);
    const { client, recorder } = createTestClient(t, { webauthn: softWebAuthn(authenticator) });
    const result = await client.signInWithPasskey({ acrValues: ['phr'] });
    expect(JSON.parse(recorder.calls[1]!.body!)).toMatchObject({ acr_values: 'phr' });
    expect(accessClaims(result.tokens.accessToken)['acr']).toBe('phr');
  });

  it('WA-11: a passkey the server does not know is invalid_passkey (401), and nothing is stored', async () => {
    // A credential made for this site but never registered with Twofold.
    const stranger = createSoftAuthenticator();
    stranger.register({
      rp: { id: t.config.webauthn.rpId, name: 'Twofold' },
      user: { id: 'dW5rbm93bg', name: 'unknown', displayName: 'unknown' },
      challenge: 'AAAAAAAAAAAAAAAAAAAAAA',
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
    const { client } = createTestClient(t, { webauthn: softWebAuthn(stranger) });
    const error = await client.signInWithPasskey().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TwofoldClientError);
    expect(error).toMatchObject({ code: 'invalid_passkey', status: 401 });
    expect(await client.getTokens()).toBeUndefined();
  });

  it('a cancelled prompt is passkey_failed; a signal aborted before the call is aborted, and nothing is sent', async () => {
    const empty = createSoftAuthenticator(); // holds no passkey: NotAllowedError, as a browser whose person cancels
    const { client, recorder } = createTestClient(t, { webauthn: softWebAuthn(empty) });
    await expect(client.signInWithPasskey()).rejects.toMatchObject({ code: 'passkey_failed', status: undefined });
    expect(recorder.summary()).toEqual(['POST /v1/passkeys/authenticate/options 200']);

    const { client: other, recorder: otherRecorder } = createTestClient(t, { webauthn: softWebAuthn(empty) });
    await expect(other.signInWithPasskey({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
    expect(otherRecorder.calls).toEqual([]);
  });
});

describe('startConditionalPasskeySignIn(): passkeys in the autofill', () => {
  it('asks for conditional mediation and signs in when the person picks the passkey', async () => {
    const authenticator = createSoftAuthenticator();
    const account = await accountWithPasskey(authenticator);
    const browser = conditionalSoftWebAuthn(authenticator);
    const { client, recorder } = createTestClient(t, { webauthn: browser.ceremonies });

    const signingIn = client.startConditionalPasskeySignIn();
    await browser.waiting();
    expect(browser.prompts).toEqual([true]);
    expect(recorder.summary()).toEqual(['POST /v1/passkeys/authenticate/options 200']);
    browser.pick();
    const result = await signingIn;

    expect(result).toBeDefined();
    expect(accessClaims(result!.tokens.accessToken)['sub']).toBe(account.userId);
    expect(recorder.summary()).toEqual(['POST /v1/passkeys/authenticate/options 200', 'POST /v1/passkeys/authenticate 200']);
  });

  it('the person types a password instead: aborting cancels the waiting prompt, resolves undefined, and signs nobody in', async () => {
    const authenticator = createSoftAuthenticator();
    await accountWithPasskey(authenticator);
    const browser = conditionalSoftWebAuthn(authenticator);
    const { client, recorder } = createTestClient(t, { webauthn: browser.ceremonies });
    const typedPassword = new AbortController();

    const signingIn = client.startConditionalPasskeySignIn({ signal: typedPassword.signal });
    await browser.waiting();
    typedPassword.abort();

    await expect(signingIn).resolves.toBeUndefined();
    expect(browser.cancellations()).toBe(1);
    browser.pick(); // too late: the prompt is gone
    expect(recorder.summary()).toEqual(['POST /v1/passkeys/authenticate/options 200']);
    expect(await client.getTokens()).toBeUndefined();
  });

  it('without conditional mediation (an older browser, or Node) it resolves undefined at once and sends nothing', async () => {
    const authenticator = createSoftAuthenticator();
    const browser = conditionalSoftWebAuthn(authenticator, { available: false });
    const { client, recorder } = createTestClient(t, { webauthn: browser.ceremonies });
    await expect(client.startConditionalPasskeySignIn()).resolves.toBeUndefined();
    expect(browser.prompts).toEqual([]);
    expect(recorder.calls).toEqual([]);

    // The default prompts in Node: no PublicKeyCredential, so no conditional mediation either.
    const node = createTwofoldClient({ baseUrl: t.baseUrl, now: t.clock.now });
    await expect(node.startConditionalPasskeySignIn()).resolves.toBeUndefined();
  });
});
