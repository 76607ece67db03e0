// Sign in with a passkey alone (WA-07..WA-15), through the HTTP API with the suite's software
// authenticator: discoverable registration, the username-less ceremony, the token it earns (two
// factors only with a verified UV), and every way the ceremony can be bent — each refused with a
// stable problem code, never a 500, and without a session written.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestAttestationIdentity, type TestPki } from '../helpers/attestation-ca.js';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson } from '../helpers/flow.js';
import { answerPasskeySignIn, injectPost, passkeySignInOptions, signInWithPasskey, signUpWithPasskey, type PasskeyAccount, type Post } from '../helpers/passkey-sign-in.js';
import { b64url, createSoftAuthenticator, fromB64url } from '../helpers/soft-authenticator.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const fiveMinutesAndASecond = 5 * 60 * 1000 + 1000;

let t: TestTwofold;
let post: Post;
beforeAll(async () => {
  t = await startTestTwofold();
  post = injectPost(t);
});
afterAll(async () => t?.close());

const claimsOf = (body: { access_token: string }) => decodeJwt(body.access_token);

async function sessionCount(app: TestTwofold = t): Promise<number> {
  const row = await app.ctx.db.selectFrom('sessions').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

async function credentialRow(account: PasskeyAccount, app: TestTwofold = t) {
  return app.ctx.db.selectFrom('webauthn_credentials').selectAll().where('credential_id', '=', account.credentialId).executeTakeFirstOrThrow();
}

/** Answers a fresh challenge with `mutate`d assertion JSON. */
async function answerMutated(account: PasskeyAccount, mutate: (credential: any) => void) {
  const challenge = await passkeySignInOptions(post);
  const credential: any = account.authenticator.authenticate(challenge.options);
  mutate(credential);
  return answerPasskeySignIn(post, challenge.challengeId, credential);
}

function expectProblemResult(result: { status: number; body: any; headers: Record<string, unknown> }, status: number, code: string): void {
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  expect(String(result.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(result.body).toMatchObject({ status, code, type: `urn:twofold:error:${code}` });
  for (const key of ['access_token', 'refresh_token']) expect(result.body).not.toHaveProperty(key);
}

describe('discoverable registration', () => {
  it('WA-07: creation options require a resident key and UV, ask for credProps, and carry the user id (not the username) as the user handle', async () => {
    const account = await signUpWithPasskey(post);
    const enrollment = await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(account.accessToken));
    expect(enrollment.statusCode, enrollment.body).toBe(201);
    const options = enrollment.json().options;
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
    expect(options.extensions).toMatchObject({ credProps: true });
    expect(fromB64url(options.user.id).toString('utf8')).toBe(account.userId);
    expect(fromB64url(options.user.id).toString('utf8')).not.toBe(account.username);
    expect(await credentialRow(account)).toMatchObject({ discoverable: 1, locked_at: null });
  });

  it('WA-07: credProps rk=false is recorded as not discoverable; no credProps at all counts as discoverable (residentKey was required)', async () => {
    const silent = await signUpWithPasskey(post, { reportsCredProps: false });
    expect((await credentialRow(silent)).discoverable).toBe(1);
    const account = await signUpWithPasskey(post);
    // A client that says it made no resident key (against "required"): believed, for the worse.
    const enrollment = (await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(account.accessToken))).json();
    const credential: any = createSoftAuthenticator().register(enrollment.options);
    credential.clientExtensionResults = { credProps: { rk: false } };
    const confirmed = await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { credential, challenge_id: enrollment.challenge_id }, bearer(account.accessToken));
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    const row = await t.ctx.db.selectFrom('webauthn_credentials').select('discoverable').where('credential_id', '=', credential.id).executeTakeFirstOrThrow();
    expect(row.discoverable).toBe(0);
  });
});

describe('signing in with a passkey alone', () => {
  it('WA-08: the options name no user: empty allowCredentials, UV required, a fresh challenge each time', async () => {
    const first = await post('/v1/passkeys/authenticate/options', {});
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ expires_in: 300, options: { rpId: 'twofold.test', userVerification: 'required', allowCredentials: [] } });
    expect(first.body.challenge_id).toMatch(/^chl_/);
    expect(fromB64url(first.body.options.challenge).length).toBeGreaterThanOrEqual(16);
    const second = await post('/v1/passkeys/authenticate/options', {});
    expect(second.body.options.challenge).not.toBe(first.body.options.challenge);
    expect(second.body.challenge_id).not.toBe(first.body.challenge_id);
  });

  it('WA-09: a passkey with UV signs in alone as two factors — acr aal2, amr [swk, mfa], no pwd, pin or user — with the same token response and events as any login', async () => {
    const account = await signUpWithPasskey(post);
    const before = t.events.length;
    const result = await signInWithPasskey(post, account.authenticator);
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(Object.keys(result.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(result.body.token_type).toBe('Bearer');
    const claims = claimsOf(result.body);
    expect(claims.sub).toBe(account.userId);
    expect(claims.acr).toBe('aal2');
    expect(claims.amr).toEqual(['swk', 'mfa']);
    for (const method of ['pwd', 'pin', 'user', 'fpt', 'hwk']) expect(claims.amr).not.toContain(method);
    // A real session: listed, and /v1/me answers with it.
    const me = await getJson(t.app, '/v1/me', bearer(result.body.access_token));
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json().session).toMatchObject({ acr: 'aal2', amr: ['swk', 'mfa'] });
    const completed = t.events.slice(before).filter((event) => event.type === 'login.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ userId: account.userId, sessionId: claims.sid, details: { amr: 'swk mfa' } });
    // The counter moved forward and the factor was used.
    expect(Number((await credentialRow(account)).sign_count)).toBe(account.authenticator.signCount(account.credentialId));
  });

  it('WA-10: a refresh keeps what the sign-in earned (acr, amr, auth_time) and never raises it', async () => {
    const account = await signUpWithPasskey(post);
    const signedIn = await signInWithPasskey(post, account.authenticator, { acrValues: 'phr' });
    expect(signedIn.status).toBe(200);
    const first = claimsOf(signedIn.body);
    expect(first.acr).toBe('phr');
    t.clock.advanceSeconds(60);
    const refreshed = await postJson(t.app, '/v1/token/refresh', { refresh_token: signedIn.body.refresh_token });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    const second = claimsOf(refreshed.json());
    expect(second.acr).toBe('phr');
    expect(second.amr).toEqual(first.amr);
    expect(second.auth_time).toBe(first.auth_time);
  });

  it('WA-10: acr_values phr gives phr; phrh without a proven hardware key gives phr, not phrh; other values are ignored', async () => {
    const account = await signUpWithPasskey(post);
    expect(claimsOf((await signInWithPasskey(post, account.authenticator, { acrValues: 'phrh' })).body)).toMatchObject({ acr: 'phr', amr: ['swk', 'mfa'] });
    expect(claimsOf((await signInWithPasskey(post, account.authenticator, { acrValues: 'aal3 phr' })).body).acr).toBe('phr');
    expect(claimsOf((await signInWithPasskey(post, account.authenticator, { acrValues: 'aal3' })).body).acr).toBe('aal2');
  });

  it('WA-07: a passkey registered before passkey sign-in (discoverability unknown) cannot sign in alone, and still works as a second factor', async () => {
    const account = await signUpWithPasskey(post);
    await t.ctx.db.updateTable('webauthn_credentials').set({ discoverable: null }).where('credential_id', '=', account.credentialId).execute();
    const before = await sessionCount();
    expectProblemResult(await signInWithPasskey(post, account.authenticator), 401, 'invalid_passkey');
    expect(await sessionCount()).toBe(before);
    const mfaToken = await loginForMfaToken(t, account);
    const challenge = (await postJson(t.app, '/v1/mfa/challenge', { factor_id: account.passkeyFactorId }, bearer(mfaToken))).json();
    const verified = await postJson(t.app, '/v1/mfa/verify', { challenge_id: challenge.challenge_id, credential: account.authenticator.authenticate(challenge.options) }, bearer(mfaToken));
    expect(verified.statusCode, verified.body).toBe(200);
    expect(claimsOf(verified.json()).amr).toEqual(['pwd', 'swk', 'mfa']);
  });
});

describe('refused, each with a stable code', () => {
  it('WA-08: a challenge works once — the replay is 400 invalid_challenge, and so is an id never issued', async () => {
    const account = await signUpWithPasskey(post);
    const challenge = await passkeySignInOptions(post);
    const assertion = account.authenticator.authenticate(challenge.options);
    expect((await answerPasskeySignIn(post, challenge.challengeId, assertion)).status).toBe(200);
    const before = await sessionCount();
    expectProblemResult(await answerPasskeySignIn(post, challenge.challengeId, assertion), 400, 'invalid_challenge');
    expectProblemResult(await answerPasskeySignIn(post, 'chl_neverIssued', account.authenticator.authenticate(challenge.options)), 400, 'invalid_challenge');
    expect(await sessionCount()).toBe(before);
  });

  it('WA-08: a challenge older than 5 minutes is 400 challenge_expired, and is gone after that answer', async () => {
    const account = await signUpWithPasskey(post);
    const challenge = await passkeySignInOptions(post);
    const assertion = account.authenticator.authenticate(challenge.options);
    t.clock.advance(fiveMinutesAndASecond);
    expectProblemResult(await answerPasskeySignIn(post, challenge.challengeId, assertion), 400, 'challenge_expired');
    expectProblemResult(await answerPasskeySignIn(post, challenge.challengeId, assertion), 400, 'invalid_challenge');
  });

  it('WA-09: an assertion without UV is 401 user_verification_required (the default: refuse)', async () => {
    const account = await signUpWithPasskey(post);
    const before = await sessionCount();
    expectProblemResult(await signInWithPasskey(post, account.authenticator, { overrides: { userVerified: false } }), 401, 'user_verification_required');
    expect(await sessionCount()).toBe(before);
  });

  it('WA-11: an unknown credential and a bad signature get the same answer', async () => {
    const account = await signUpWithPasskey(post);
    const stranger = createSoftAuthenticator();
    stranger.register({ rp: { id: 'twofold.test', name: 'x' }, user: { id: b64url(Buffer.from('usr_nobody')), name: 'n', displayName: 'n' }, challenge: b64url(Buffer.alloc(32, 1)), pubKeyCredParams: [{ type: 'public-key', alg: -7 }], authenticatorSelection: { residentKey: 'required' } });
    const unknown = await signInWithPasskey(post, stranger);
    const forged = await signInWithPasskey(post, account.authenticator, { overrides: { signature: 'corrupt' } });
    expectProblemResult(unknown, 401, 'invalid_passkey');
    expectProblemResult(forged, 401, 'invalid_passkey');
    expect(unknown.body).toEqual(forged.body);
  });

  it('WA-12: an assertion whose user handle is not the owner\'s id is refused', async () => {
    const account = await signUpWithPasskey(post);
    expectProblemResult(await answerMutated(account, (credential) => (credential.response.userHandle = b64url(Buffer.from(account.username)))), 401, 'invalid_passkey');
    expectProblemResult(await answerMutated(account, (credential) => delete credential.response.userHandle), 401, 'invalid_passkey');
  });

  it('WA-12: a locked account is refused like any other login', async () => {
    const account = await signUpWithPasskey(post);
    await t.ctx.db.updateTable('users').set({ locked_at: t.clock.now() }).where('id', '=', account.userId).execute();
    const result = await signInWithPasskey(post, account.authenticator);
    expectProblemResult(result, 429, 'too_many_attempts');
    expect(result.body.locked).toBe(true);
  });

  it('WA-13: a counter that does not move forward locks the credential: 403 passkey_locked, an event, and the passkey is refused after — alone and as a second factor', async () => {
    const account = await signUpWithPasskey(post);
    expect((await signInWithPasskey(post, account.authenticator)).status).toBe(200);
    const stored = account.authenticator.signCount(account.credentialId);
    const before = t.events.length;
    expectProblemResult(await signInWithPasskey(post, account.authenticator, { overrides: { signCount: stored } }), 403, 'passkey_locked');
    expect(t.events.slice(before).filter((event) => event.type === 'webauthn.counter_regression' && event.userId === account.userId)).toHaveLength(1);
    expect((await credentialRow(account)).locked_at).not.toBeNull();
    // The genuine authenticator, counting on: still refused.
    expectProblemResult(await signInWithPasskey(post, account.authenticator), 403, 'passkey_locked');
    const mfaToken = await loginForMfaToken(t, account);
    const challenge = (await postJson(t.app, '/v1/mfa/challenge', { factor_id: account.passkeyFactorId }, bearer(mfaToken))).json();
    const verified = await postJson(t.app, '/v1/mfa/verify', { challenge_id: challenge.challenge_id, credential: account.authenticator.authenticate(challenge.options) }, bearer(mfaToken));
    expectProblem(verified, 401, 'invalid_code');
  });

  it('WA-13: a counter regression seen as a second factor locks the passkey for passkey sign-in too', async () => {
    const account = await signUpWithPasskey(post);
    expect((await signInWithPasskey(post, account.authenticator)).status).toBe(200);
    const mfaToken = await loginForMfaToken(t, account);
    const challenge = (await postJson(t.app, '/v1/mfa/challenge', { factor_id: account.passkeyFactorId }, bearer(mfaToken))).json();
    const regressed = account.authenticator.authenticate(challenge.options, { signCount: account.authenticator.signCount(account.credentialId) });
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { challenge_id: challenge.challenge_id, credential: regressed }, bearer(mfaToken)), 401, 'invalid_code');
    expect((await credentialRow(account)).locked_at).not.toBeNull();
    expectProblemResult(await signInWithPasskey(post, account.authenticator), 403, 'passkey_locked');
  });

  it('WA-14: a backup-eligibility flag that differs from the registration is a bad assertion; the backup state is recorded on each use', async () => {
    const account = await signUpWithPasskey(post, { backupEligible: true, backedUp: false });
    expect((await credentialRow(account)).backed_up).toBe(0);
    expectProblemResult(await signInWithPasskey(post, account.authenticator, { overrides: { backupEligible: false, backedUp: false } }), 401, 'invalid_passkey');
    expect((await signInWithPasskey(post, account.authenticator, { overrides: { backedUp: true } })).status).toBe(200);
    expect((await credentialRow(account)).backed_up).toBe(1);
    const deviceBound = await signUpWithPasskey(post);
    expectProblemResult(await signInWithPasskey(post, deviceBound.authenticator, { overrides: { backupEligible: true } }), 401, 'invalid_passkey');
  });

  it('WA-15: another origin, another RP ID, a tampered clientDataJSON or authenticatorData — 401 invalid_passkey, no session written', async () => {
    const account = await signUpWithPasskey(post);
    const before = await sessionCount();
    expectProblemResult(await signInWithPasskey(post, account.authenticator, { overrides: { origin: 'https://evil.example' } }), 401, 'invalid_passkey');
    expectProblemResult(await signInWithPasskey(post, account.authenticator, { overrides: { rpId: 'evil.example' } }), 401, 'invalid_passkey');
    expectProblemResult(
      await answerMutated(account, (credential) => {
        const clientData = JSON.parse(fromB64url(credential.response.clientDataJSON).toString('utf8'));
        credential.response.clientDataJSON = b64url(Buffer.from(JSON.stringify({ ...clientData, crossOrigin: true })));
      }),
      401,
      'invalid_passkey',
    );
    expectProblemResult(
      await answerMutated(account, (credential) => {
        const authData = fromB64url(credential.response.authenticatorData);
        authData[36] = authData[36]! ^ 0x01; // the counter's last byte
        credential.response.authenticatorData = b64url(authData);
      }),
      401,
      'invalid_passkey',
    );
    expectProblemResult(await answerMutated(account, (credential) => (credential.response.authenticatorData = '!!not base64url')), 401, 'invalid_passkey');
    expectProblemResult(await answerMutated(account, (credential) => (credential.response = { clientDataJSON: 42 })), 401, 'invalid_passkey');
    expect(await sessionCount()).toBe(before);
    // The genuine authenticator still signs in: none of that locked or spent the passkey.
    expect((await signInWithPasskey(post, account.authenticator)).status).toBe(200);
  });

  it('WA-15: malformed bodies are 400 invalid_request and spend nothing', async () => {
    const challenge = await passkeySignInOptions(post);
    const bodies: unknown[] = [
      {},
      { challenge_id: challenge.challengeId },
      { credential: { id: 'abc', rawId: 'abc', type: 'public-key', response: {} } },
      { challenge_id: 'not an id!', credential: { id: 'abc', rawId: 'abc', type: 'public-key', response: {} } },
      { challenge_id: challenge.challengeId, credential: 'a string' },
      { challenge_id: challenge.challengeId, credential: { id: 'abc', rawId: 'abc', type: 'public-key', response: {} }, acr_values: 42 },
      { challenge_id: challenge.challengeId, credential: { id: 'a/b', rawId: 'abc', type: 'public-key', response: {} } },
      [],
    ];
    for (const body of bodies) expectProblemResult(await post('/v1/passkeys/authenticate', body), 400, 'invalid_request');
    // A username (or anything else) sent to the options is stripped, never read (FL-04): the options name no one.
    const named = await post('/v1/passkeys/authenticate/options', { username: 'someone' });
    expect(named.status).toBe(200);
    expect(named.body.options.allowCredentials).toEqual([]);
    // Nothing was spent: the challenge still answers.
    const account = await signUpWithPasskey(post);
    expect((await answerPasskeySignIn(post, challenge.challengeId, account.authenticator.authenticate(challenge.options))).status).toBe(200);
  });
});

describe('with other settings', () => {
  let lenient: TestTwofold;
  let attested: TestTwofold;
  let pki: TestPki;
  let vendorKey: TestAttestationIdentity;
  beforeAll(async () => {
    pki = createTestPki();
    const root = pki.root('Passkey Sign-in Vendor Root');
    vendorKey = root.issueIntermediate('Vendor CA').issueAttestation();
    [lenient, attested] = await Promise.all([startTestTwofold({ env: { TWOFOLD_PASSKEY_WITHOUT_UV: 'aal1' } }), startTestTwofold({ env: { TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: root.certificatePath } })]);
  });
  afterAll(async () => {
    await Promise.all([lenient?.close(), attested?.close()]);
    pki?.close();
  });

  it('WA-08/RC-02: a client network gets TWOFOLD_PASSKEY_CHALLENGES_PER_CLIENT challenges per 5 minutes, then 429 with Retry-After', async () => {
    const budgeted = await startTestTwofold({ env: { TWOFOLD_PASSKEY_CHALLENGES_PER_CLIENT: '3' } });
    try {
      const budgetedPost = injectPost(budgeted);
      for (let i = 0; i < 3; i += 1) expect((await budgetedPost('/v1/passkeys/authenticate/options', {})).status).toBe(200);
      const refused = await budgetedPost('/v1/passkeys/authenticate/options', {});
      expectProblemResult(refused, 429, 'too_many_attempts');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(budgeted.events.filter((event) => event.type === 'request_budget.exhausted' && event.details?.['action'] === 'passkey_sign_in')).toHaveLength(1);
      budgeted.clock.advance(fiveMinutesAndASecond);
      expect((await budgetedPost('/v1/passkeys/authenticate/options', {})).status).toBe(200);
    } finally {
      await budgeted.close();
    }
  });

  it('WA-08/RC-02: 60 option requests at once from one network with a budget of 10: exactly 10 challenges, 50 refused with 429', async () => {
    const budgeted = await startTestTwofold({ env: { TWOFOLD_PASSKEY_CHALLENGES_PER_CLIENT: '10' } });
    try {
      const budgetedPost = injectPost(budgeted);
      const answers = await Promise.all(Array.from({ length: 60 }, () => budgetedPost('/v1/passkeys/authenticate/options', {})));
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(10);
      expect(answers.filter((answer) => answer.status === 429)).toHaveLength(50);
    } finally {
      await budgeted.close();
    }
  });

  it('WA-09: with TWOFOLD_PASSKEY_WITHOUT_UV=aal1 an assertion without UV signs in as one factor: aal1, amr [swk], no mfa', async () => {
    const lenientPost = injectPost(lenient);
    const account = await signUpWithPasskey(lenientPost);
    const result = await signInWithPasskey(lenientPost, account.authenticator, { overrides: { userVerified: false }, acrValues: 'phr' });
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(claimsOf(result.body)).toMatchObject({ acr: 'aal1', amr: ['swk'] });
    expect(claimsOf((await signInWithPasskey(lenientPost, account.authenticator)).body)).toMatchObject({ acr: 'aal2', amr: ['swk', 'mfa'] });
  });

  it('WA-10: a passkey whose attestation chained to a configured root is hwk, and phrh when asked for', async () => {
    const attestedPost = injectPost(attested);
    const account = await signUpWithPasskey(attestedPost, { attestation: { format: 'packed', privateKey: vendorKey.privateKey, certificates: vendorKey.certificates }, attachment: 'cross-platform', transports: ['usb'] });
    expect(claimsOf((await signInWithPasskey(attestedPost, account.authenticator, { acrValues: 'phrh' })).body)).toMatchObject({ acr: 'phrh', amr: ['hwk', 'mfa'] });
    expect(claimsOf((await signInWithPasskey(attestedPost, account.authenticator, { acrValues: 'phr' })).body).acr).toBe('phr');
    expect(claimsOf((await signInWithPasskey(attestedPost, account.authenticator)).body)).toMatchObject({ acr: 'aal2', amr: ['hwk', 'mfa'] });
    // Unattested on the same server: swk, and never phrh.
    const plain = await signUpWithPasskey(attestedPost);
    expect(claimsOf((await signInWithPasskey(attestedPost, plain.authenticator, { acrValues: 'phrh' })).body)).toMatchObject({ acr: 'phr', amr: ['swk', 'mfa'] });
  });
});
