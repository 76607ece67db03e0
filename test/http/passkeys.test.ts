// Passkeys (WebAuthn) end to end (WA-01..WA-06, FL-*, JW-11, MG-06):
// real registration and authentication ceremonies through the HTTP API, with a software
// authenticator written in the test suite (test/helpers/soft-authenticator.ts) — and every way a
// ceremony can be bent that the server must refuse: another origin or RP ID, no user verification
// or presence, a bad signature, a replay, another transaction's or another user's challenge or
// credential, a counter that does not move forward, an expired challenge, a duplicate credential.
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecurityEvent } from '../../src/flows/shared/security-events.js';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, registerUser, signUp, totpCode, type Registered } from '../helpers/flow.js';
import {
  b64url,
  cborEncode,
  createSoftAuthenticator,
  fromB64url,
  sha256,
  SoftAuthenticatorError,
  type AuthenticationOverrides,
  type RegistrationOverrides,
  type SoftAuthenticator,
  type SoftAuthenticatorOptions,
} from '../helpers/soft-authenticator.js';
import { startTestTwofold, testPublicUrl, type TestTwofold } from '../helpers/twofold.js';

const rpId = 'twofold.test';
const origin = 'http://twofold.test';
const fiveMinutesAndASecond = 5 * 60 * 1000 + 1000;

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

// --- helpers ------------------------------------------------------------------------------------

interface Enrollment {
  factorId: string;
  challengeId: string;
  options: any;
  body: any;
}

async function enrollPasskey(token: string, label?: string): Promise<Enrollment> {
  const response = await postJson(t.app, '/v1/factors', label === undefined ? { type: 'webauthn' } : { type: 'webauthn', label }, bearer(token));
  expect(response.statusCode, response.body).toBe(201);
  const body = response.json();
  return { factorId: body.factor_id, challengeId: body.challenge_id, options: body.options, body };
}

function confirmPasskey(token: string, factorId: string, credential: unknown, challengeId?: string): Promise<LightMyRequestResponse> {
  return postJson(t.app, `/v1/factors/${factorId}/verify`, challengeId === undefined ? { credential } : { credential, challenge_id: challengeId }, bearer(token));
}

interface PasskeyUser extends Registered {
  authenticator: SoftAuthenticator;
  passkeyFactorId: string;
  credentialId: string;
  accessToken: string;
  refreshToken: string;
  recoveryCodes: string[];
  confirmation: any;
}

/** Registers an account and makes a passkey its first factor (the first complete sign-in). */
async function signUpWithPasskey(options: SoftAuthenticatorOptions = {}, label?: string): Promise<PasskeyUser> {
  const authenticator = createSoftAuthenticator(options);
  const user = await registerUser(t);
  const enrollment = await enrollPasskey(user.mfaToken, label);
  const credential = authenticator.register(enrollment.options);
  const response = await confirmPasskey(user.mfaToken, enrollment.factorId, credential, enrollment.challengeId);
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  return {
    ...user,
    authenticator,
    passkeyFactorId: enrollment.factorId,
    credentialId: credential.id,
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    recoveryCodes: body.recovery_codes,
    confirmation: body,
  };
}

interface Challenge {
  challengeId: string;
  options: any;
  body: any;
}

async function passkeyChallenge(token: string, factorId: string): Promise<Challenge> {
  const response = await postJson(t.app, '/v1/mfa/challenge', { factor_id: factorId }, bearer(token));
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  return { challengeId: body.challenge_id, options: body.options, body };
}

function verifyPasskey(token: string, challengeId: string, credential: unknown, factorId?: string): Promise<LightMyRequestResponse> {
  return postJson(t.app, '/v1/mfa/verify', factorId === undefined ? { challenge_id: challengeId, credential } : { challenge_id: challengeId, credential, factor_id: factorId }, bearer(token));
}

/** Password step, challenge, assertion: the whole passkey login. */
async function loginWithPasskey(user: PasskeyUser, overrides: AuthenticationOverrides = {}, factorId = user.passkeyFactorId, authenticator = user.authenticator): Promise<LightMyRequestResponse> {
  const mfaToken = await loginForMfaToken(t, user);
  const challenge = await passkeyChallenge(mfaToken, factorId);
  return verifyPasskey(mfaToken, challenge.challengeId, authenticator.authenticate(challenge.options, overrides));
}

/** 401 invalid_code, and nothing that could be used as a token. */
function expectRefused(response: LightMyRequestResponse): void {
  expectProblem(response, 401, 'invalid_code');
  const body = response.json();
  for (const key of ['access_token', 'refresh_token', 'recovery_codes', 'factor']) expect(body).not.toHaveProperty(key);
}

function expectTokens(response: LightMyRequestResponse): any {
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  expect(typeof body.access_token).toBe('string');
  expect(typeof body.refresh_token).toBe('string');
  return body;
}

function eventsOf(userId: string, type?: SecurityEvent['type']): SecurityEvent[] {
  return t.events.filter((event) => event.userId === userId && (type === undefined || event.type === type));
}

async function factorsOf(accessToken: string): Promise<any[]> {
  const response = await getJson(t.app, '/v1/factors', bearer(accessToken));
  expect(response.statusCode, response.body).toBe(200);
  return response.json().factors;
}

const randomChallenge = () => b64url(randomBytes(32));

// --- the test helper itself -----------------------------------------------------------------------

describe('the software authenticator (test helper)', () => {
  it('encodes CBOR as RFC 8949 Appendix A does', () => {
    const hex = (value: Parameters<typeof cborEncode>[0]) => cborEncode(value).toString('hex');
    expect(hex(0)).toBe('00');
    expect(hex(23)).toBe('17');
    expect(hex(24)).toBe('1818');
    expect(hex(100)).toBe('1864');
    expect(hex(1000)).toBe('1903e8');
    expect(hex(1000000)).toBe('1a000f4240');
    expect(hex(1000000000000)).toBe('1b000000e8d4a51000');
    expect(hex(-1)).toBe('20');
    expect(hex(-10)).toBe('29');
    expect(hex(-100)).toBe('3863');
    expect(hex(-1000)).toBe('3903e7');
    expect(hex('')).toBe('60');
    expect(hex('IETF')).toBe('6449455446');
    expect(hex('\u00fc')).toBe('62c3bc');
    expect(hex(new Uint8Array([1, 2, 3, 4]))).toBe('4401020304');
    expect(hex([1, [2, 3], [4, 5]])).toBe('8301820203820405');
    expect(
      hex(
        new Map<number, number>([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toBe('a201020304');
    expect(
      hex(
        new Map<string, string>([
          ['a', 'A'],
          ['b', 'B'],
        ]),
      ),
    ).toBe('a26161614161626142');
  });

  it('builds authenticator data with the rpIdHash, flags, big-endian counter and attested credential data', () => {
    const authenticator = createSoftAuthenticator({ backupEligible: true });
    const options = { rp: { id: rpId, name: 'x' }, user: { id: 'dQ', name: 'u', displayName: 'u' }, challenge: randomChallenge(), pubKeyCredParams: [{ type: 'public-key' as const, alg: -7 }] };
    const registration = authenticator.register(options, { signCount: 0x01020304 });
    const authData = fromB64url(registration.response.authenticatorData!);
    expect(authData.subarray(0, 32).equals(sha256(rpId))).toBe(true);
    expect(authData[32]).toBe(0x01 | 0x04 | 0x08 | 0x10 | 0x40);
    expect(authData.readUInt32BE(33)).toBe(0x01020304);
    expect(authData.subarray(37, 53).equals(Buffer.alloc(16))).toBe(true);
    expect(authData.readUInt16BE(53)).toBe(32);
    expect(b64url(authData.subarray(55, 87))).toBe(registration.id);
    // COSE EC2 key: map(5) {1: 2, 3: -7, -1: 1, -2: bstr(32), -3: bstr(32)}
    expect(authData.subarray(87, 87 + 10).toString('hex')).toBe('a5010203262001215820');
    const clientData = JSON.parse(fromB64url(registration.response.clientDataJSON).toString('utf8'));
    expect(clientData).toEqual({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false });
    // 'none' attestation: {fmt: "none", attStmt: {}, authData}
    // a3 | 63 "fmt" 64 "none" | 67 "attStmt" a0 | 68 "authData" 58 a4 <164 bytes>
    const prefix = Buffer.from('a363666d74646e6f6e656761747453746d74a0686175746844617461' + '58a4', 'hex');
    expect(authData.length).toBe(164);
    expect(fromB64url(registration.response.attestationObject).equals(Buffer.concat([prefix, authData]))).toBe(true);
  });
});

// --- sign-up and login ----------------------------------------------------------------------------

describe('a passkey as the first factor', () => {
  it('sign-up: enroll with the registration mfa_token, confirm → tokens and 10 recovery codes (WA-01, WA-03)', async () => {
    const user = await registerUser(t);
    const enroll = await postJson(t.app, '/v1/factors', { type: 'webauthn', label: ' Laptop ' }, bearer(user.mfaToken));
    expect(enroll.statusCode, enroll.body).toBe(201);
    const enrollment = enroll.json();
    expect(enrollment).toMatchObject({ type: 'webauthn', label: 'Laptop', status: 'pending', expires_in: 300 });
    expect(enrollment.factor_id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(enrollment.challenge_id).toMatch(/^[A-Za-z0-9_-]+$/);
    const options = enrollment.options;
    expect(options.rp).toMatchObject({ id: rpId });
    expect(options.user).toMatchObject({ name: user.username });
    expect(options.authenticatorSelection).toMatchObject({ userVerification: 'required' });
    expect(options.attestation).toBe('none');
    expect(options.excludeCredentials).toEqual([]);
    expect(options.pubKeyCredParams.map((param: { alg: number }) => param.alg)).toContain(-7);
    expect(fromB64url(options.challenge).length).toBeGreaterThanOrEqual(16);
    // No secret of any kind is handed out at enrollment.
    expect(enrollment).not.toHaveProperty('secret');

    const authenticator = createSoftAuthenticator();
    const credential = authenticator.register(options);
    const confirm = await confirmPasskey(user.mfaToken, enrollment.factor_id, credential);
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(confirm.headers['cache-control']).toBe('no-store');
    const body = confirm.json();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'factor', 'recovery_codes', 'refresh_token', 'token_type']);
    expect(body.factor).toMatchObject({ id: enrollment.factor_id, type: 'webauthn', label: 'Laptop', status: 'active' });
    expect(body.recovery_codes).toHaveLength(10);
    expect(new Set(body.recovery_codes).size).toBe(10);
    expect(body.token_type).toBe('Bearer');
    // A software key with no attestation: a passkey, not a proven hardware key (see passkey-attestation.test.ts).
    expect(decodeJwt(body.access_token)).toMatchObject({ sub: user.userId, acr: 'aal2', amr: ['pwd', 'swk', 'mfa'] });
    expect((await getJson(t.app, '/v1/me', bearer(body.access_token))).statusCode).toBe(200);
    // The registration mfa_token is spent.
    expectProblem(await confirmPasskey(user.mfaToken, enrollment.factor_id, credential), 401, 'invalid_token');

    const factors = await factorsOf(body.access_token);
    expect(factors.find((factor) => factor.id === enrollment.factor_id)).toMatchObject({ type: 'webauthn', status: 'active', label: 'Laptop' });
    expect(JSON.stringify(factors)).not.toContain(credential.response.publicKey!);

    expect(eventsOf(user.userId, 'factor.enrolled')).toEqual(expect.arrayContaining([expect.objectContaining({ factorId: enrollment.factor_id, details: { type: 'webauthn' } })]));
    expect(eventsOf(user.userId, 'factor.activated')).toEqual([expect.objectContaining({ factorId: enrollment.factor_id, details: expect.objectContaining({ type: 'webauthn' }) })]);
    expect(eventsOf(user.userId, 'login.completed')).toEqual([expect.objectContaining({ details: { amr: 'pwd swk mfa' } })]);
    expect(eventsOf(user.userId, 'recovery_codes.issued')).toHaveLength(1);
  });

  it('JW-11: logs in with a passkey that claims to be device-bound (BE=0) but is not attested: amr [pwd, swk, mfa], acr aal2, auth_time now', async () => {
    const user = await signUpWithPasskey({}, 'Phone');
    t.clock.advanceSeconds(60);
    const login = await postJson(t.app, '/v1/login', { username: user.username, password: user.password });
    expect(login.statusCode, login.body).toBe(200);
    const loginBody = login.json();
    // Only active factors are offered: the unconfirmed TOTP factor from registration is not.
    expect(loginBody).toMatchObject({ next: 'verify', factors: [{ id: user.passkeyFactorId, type: 'webauthn', label: 'Phone', destination: null }] });

    const challenge = await passkeyChallenge(loginBody.mfa_token, user.passkeyFactorId);
    expect(challenge.body).toMatchObject({ expires_in: 300 });
    expect(challenge.options).toMatchObject({ rpId, userVerification: 'required' });
    expect(challenge.options.allowCredentials).toEqual([expect.objectContaining({ id: user.credentialId, type: 'public-key' })]);

    const response = await verifyPasskey(loginBody.mfa_token, challenge.challengeId, user.authenticator.authenticate(challenge.options), user.passkeyFactorId);
    const tokens = expectTokens(response);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: user.userId, acr: 'aal2', amr: ['pwd', 'swk', 'mfa'], auth_time: Math.floor(t.clock.now() / 1000) });
    expect((await getJson(t.app, '/v1/me', bearer(tokens.access_token))).statusCode).toBe(200);
    expect(eventsOf(user.userId, 'login.completed').at(-1)).toMatchObject({ details: { amr: 'pwd swk mfa' } });
    // A used passkey shows when it was last used.
    const factor = (await factorsOf(tokens.access_token)).find((row) => row.id === user.passkeyFactorId);
    expect(factor.last_used_at).toBe(new Date(t.clock.now()).toISOString());
  });

  it('JW-11: a synced passkey (BE=1, BS=1) gives amr [pwd, swk, mfa] at sign-up and at login', async () => {
    const user = await signUpWithPasskey({ backupEligible: true });
    expect(decodeJwt(user.accessToken)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'swk', 'mfa'] });
    const response = await loginWithPasskey(user);
    expect(decodeJwt(expectTokens(response).access_token)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'swk', 'mfa'] });
    expect(eventsOf(user.userId, 'login.completed').at(-1)).toMatchObject({ details: { amr: 'pwd swk mfa' } });
  });

  it('a security key (cross-platform, usb) logs in too; its transports come back in allowCredentials and userHandle is optional', async () => {
    const user = await signUpWithPasskey({ attachment: 'cross-platform', transports: ['usb'] });
    const mfaToken = await loginForMfaToken(t, user);
    const challenge = await passkeyChallenge(mfaToken, user.passkeyFactorId);
    expect(challenge.options.allowCredentials).toEqual([{ id: user.credentialId, type: 'public-key', transports: ['usb'] }]);
    const assertion = user.authenticator.authenticate(challenge.options);
    delete assertion.response.userHandle;
    expectTokens(await verifyPasskey(mfaToken, challenge.challengeId, assertion));
  });

  it('WA-01/WA-03: every challenge is ≥16 random bytes, new each time, and asks for user verification', async () => {
    const user = await signUpWithPasskey();
    const seen = new Set<string>();
    for (let i = 0; i < 3; i += 1) {
      const mfaToken = await loginForMfaToken(t, user);
      const first = await passkeyChallenge(mfaToken, user.passkeyFactorId);
      const again = await passkeyChallenge(mfaToken, user.passkeyFactorId);
      for (const challenge of [first, again]) {
        expect(challenge.options.userVerification).toBe('required');
        expect(fromB64url(challenge.options.challenge).length).toBeGreaterThanOrEqual(16);
        seen.add(challenge.options.challenge);
        seen.add(challenge.challengeId);
      }
    }
    const enrollment = await enrollPasskey(user.accessToken);
    expect(enrollment.options.authenticatorSelection.userVerification).toBe('required');
    expect(fromB64url(enrollment.options.challenge).length).toBeGreaterThanOrEqual(16);
    seen.add(enrollment.options.challenge);
    expect(seen.size).toBe(13);
  });

  it('a passkey factor is confirmed only with a registration response; a TOTP code or a missing credential is not one', async () => {
    const user = await registerUser(t);
    const enrollment = await enrollPasskey(user.mfaToken);
    expectProblem(await postJson(t.app, `/v1/factors/${enrollment.factorId}/verify`, {}, bearer(user.mfaToken)), 400, 'invalid_request');
    expectProblem(await postJson(t.app, `/v1/factors/${enrollment.factorId}/verify`, { code: totpCode(t, user.secret) }, bearer(user.mfaToken)), 400, 'invalid_request');
    const malformed = await confirmPasskey(user.mfaToken, enrollment.factorId, { id: 'abc', rawId: 'abc', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'oA' } });
    expectRefused(malformed);
    expectTokens(await confirmPasskey(user.mfaToken, enrollment.factorId, createSoftAuthenticator().register(enrollment.options)));
  });
});

// --- several passkeys, enrollment rules, management -----------------------------------------------

describe('several passkeys per user', () => {
  it('a second passkey is added with a recent access token; excludeCredentials lists the first; either one logs in', async () => {
    const user = await signUpWithPasskey({}, 'Laptop');
    const enrollment = await enrollPasskey(user.accessToken, 'YubiKey');
    expect(enrollment.options.excludeCredentials).toEqual([expect.objectContaining({ id: user.credentialId, type: 'public-key' })]);
    // The authenticator that already holds a credential refuses, as a real one would (InvalidStateError).
    expect(() => user.authenticator.register(enrollment.options)).toThrow(SoftAuthenticatorError);

    const key = createSoftAuthenticator({ attachment: 'cross-platform', transports: ['usb', 'nfc'] });
    const confirm = await confirmPasskey(user.accessToken, enrollment.factorId, key.register(enrollment.options), enrollment.challengeId);
    expect(confirm.statusCode, confirm.body).toBe(200);
    const body = confirm.json();
    // With an access token the confirmation returns the factor only: no new tokens, no new codes.
    expect(Object.keys(body)).toEqual(['factor']);
    expect(body.factor).toMatchObject({ id: enrollment.factorId, type: 'webauthn', label: 'YubiKey', status: 'active' });
    expect(eventsOf(user.userId, 'factor.activated').map((event) => event.factorId)).toEqual([user.passkeyFactorId, enrollment.factorId]);

    const factors = await factorsOf(user.accessToken);
    expect(factors.filter((factor) => factor.type === 'webauthn' && factor.status === 'active').map((factor) => factor.label).sort()).toEqual(['Laptop', 'YubiKey']);

    const login = (await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json();
    expect(login.factors.map((factor: { id: string }) => factor.id).sort()).toEqual([user.passkeyFactorId, enrollment.factorId].sort());
    // Each factor's challenge names only its own credential.
    const keyChallenge = await passkeyChallenge(login.mfa_token, enrollment.factorId);
    expect(keyChallenge.options.allowCredentials).toEqual([expect.objectContaining({ id: key.lastCredentialId(), transports: ['usb', 'nfc'] })]);
    // The other passkey of the same user does not answer this factor's challenge (WA-04).
    expectRefused(await verifyPasskey(login.mfa_token, keyChallenge.challengeId, user.authenticator.authenticate(keyChallenge.options, { useCredential: user.credentialId })));
    expectTokens(await verifyPasskey(login.mfa_token, keyChallenge.challengeId, key.authenticate(keyChallenge.options), enrollment.factorId));
    expectTokens(await loginWithPasskey(user));
  });

  it('a user who signed up with TOTP adds a passkey and logs in with it; TOTP keeps working', async () => {
    const user = await signUp(t);
    const authenticator = createSoftAuthenticator();
    const enrollment = await enrollPasskey(user.accessToken);
    expect(enrollment.options.excludeCredentials).toEqual([]);
    expect((await confirmPasskey(user.accessToken, enrollment.factorId, authenticator.register(enrollment.options))).statusCode).toBe(200);

    const mfaToken = await loginForMfaToken(t, user);
    const challenge = await passkeyChallenge(mfaToken, enrollment.factorId);
    const tokens = expectTokens(await verifyPasskey(mfaToken, challenge.challengeId, authenticator.authenticate(challenge.options)));
    expect(decodeJwt(tokens.access_token)).toMatchObject({ amr: ['pwd', 'swk', 'mfa'] });

    t.clock.advanceSeconds(30);
    const totpLogin = await loginForMfaToken(t, user);
    expect(decodeJwt(expectTokens(await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(totpLogin))).access_token)).toMatchObject({ amr: ['pwd', 'otp', 'mfa'] });
  });

  it('an mfa_token cannot start (or re-challenge) a passkey enrollment once the user has an active factor: 403', async () => {
    const passkeyUser = await signUpWithPasskey();
    const totpUser = await signUp(t);
    for (const user of [passkeyUser, totpUser]) {
      const mfaToken = await loginForMfaToken(t, user);
      expectProblem(await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(mfaToken)), 403, 'forbidden');
    }
    // A pending passkey started with an access token cannot be finished with a password-only token either.
    const pending = await enrollPasskey(passkeyUser.accessToken);
    const mfaToken = await loginForMfaToken(t, passkeyUser);
    expectProblem(await postJson(t.app, '/v1/mfa/challenge', { factor_id: pending.factorId }, bearer(mfaToken)), 403, 'forbidden');
    const credential = createSoftAuthenticator().register(pending.options);
    expectProblem(await confirmPasskey(mfaToken, pending.factorId, credential, pending.challengeId), 403, 'forbidden');
    expect((await factorsOf(passkeyUser.accessToken)).find((factor) => factor.id === pending.factorId)).toMatchObject({ status: 'pending' });
  });

  it('SS-09/WA-06: adding a passkey needs a second factor from the last 5 minutes', async () => {
    const user = await signUpWithPasskey();
    t.clock.advanceSeconds(6 * 60);
    const refreshed = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json();
    const response = await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(refreshed.access_token));
    expectProblem(response, 401, 'insufficient_authentication');
    expect(response.headers['www-authenticate']).toMatch(/insufficient_user_authentication/);
  });

  it('WA-06: a stale access token of another session cannot take over a passkey enrollment started elsewhere', async () => {
    const user = await signUpWithPasskey();
    // Session B: a normal login, whose token goes stale (a stolen laptop, a leaked token).
    const sessionB = expectTokens(await loginWithPasskey(user));
    t.clock.advanceSeconds(6 * 60);
    expectProblem(await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(sessionB.access_token)), 401, 'insufficient_authentication');
    // Session A: the owner, freshly signed in, starts adding a passkey and leaves it unfinished.
    const sessionA = expectTokens(await loginWithPasskey(user));
    const abandoned = await enrollPasskey(sessionA.access_token, 'never finished');

    // Whoever holds session B's stale token tries to finish that enrollment with a key of their own.
    const attackerKey = createSoftAuthenticator();
    const challenge = await postJson(t.app, '/v1/mfa/challenge', { factor_id: abandoned.factorId }, bearer(sessionB.access_token));
    if (challenge.statusCode === 200) {
      const confirm = await confirmPasskey(sessionB.access_token, abandoned.factorId, attackerKey.register(challenge.json().options), challenge.json().challenge_id);
      expect(confirm.statusCode, `a stale token of another session activated a passkey: ${confirm.body}`).not.toBe(200);
    } else {
      expect(challenge.statusCode).toBeGreaterThanOrEqual(400);
    }
    expect((await factorsOf(sessionA.access_token)).find((factor) => factor.id === abandoned.factorId)?.status).not.toBe('active');
  });

  it('successful confirmations are not failed attempts: adding several passkeys does not use up the session', async () => {
    const user = await signUpWithPasskey();
    // Six more passkeys in one sitting (well within the 5-minute step-up window).
    for (let i = 1; i <= 6; i += 1) {
      const enrollment = await enrollPasskey(user.accessToken, `key ${i}`);
      const response = await confirmPasskey(user.accessToken, enrollment.factorId, createSoftAuthenticator().register(enrollment.options));
      expect(response.statusCode, `passkey ${i}: ${response.body}`).toBe(200);
    }
    // One ceremony that fails (the person did not verify) is one failure, not the end of the session.
    const enrollment = await enrollPasskey(user.accessToken, 'key 7');
    const failed = await confirmPasskey(user.accessToken, enrollment.factorId, createSoftAuthenticator().register(enrollment.options, { userVerified: false }));
    const problem = expectProblem(failed, 401, 'invalid_code');
    expect(problem['attempts_remaining']).toBeGreaterThan(0);
    expect((await getJson(t.app, '/v1/me', bearer(user.accessToken))).statusCode).toBe(200);
    expect((await factorsOf(user.accessToken)).filter((factor) => factor.type === 'webauthn' && factor.status === 'active')).toHaveLength(7);
  });

  it('successful confirmations are not failed attempts: after four added passkeys one failed ceremony does not end the session', async () => {
    const user = await signUpWithPasskey();
    for (let i = 1; i <= 4; i += 1) {
      const enrollment = await enrollPasskey(user.accessToken, `key ${i}`);
      expect((await confirmPasskey(user.accessToken, enrollment.factorId, createSoftAuthenticator().register(enrollment.options))).statusCode).toBe(200);
    }
    const enrollment = await enrollPasskey(user.accessToken, 'key 5');
    const failed = await confirmPasskey(user.accessToken, enrollment.factorId, createSoftAuthenticator().register(enrollment.options, { userVerified: false }));
    expect(expectProblem(failed, 401, 'invalid_code')['attempts_remaining']).toBeGreaterThan(0);
    expect((await getJson(t.app, '/v1/me', bearer(user.accessToken))).statusCode).toBe(200);
  });
});

describe('step-up with a passkey (RFC 9470)', () => {
  it('an access token + challenge + assertion → a new access token (no refresh token) with a newer auth_time', async () => {
    const user = await signUpWithPasskey();
    const before = decodeJwt(user.accessToken);
    t.clock.advanceSeconds(6 * 60);
    const refreshed = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json();
    expect(decodeJwt(refreshed.access_token).auth_time).toBe(before['auth_time']);
    expectProblem(await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(refreshed.access_token)), 401, 'insufficient_authentication');

    const challenge = await passkeyChallenge(refreshed.access_token, user.passkeyFactorId);
    expect(challenge.options).toMatchObject({ rpId, userVerification: 'required' });
    const response = await verifyPasskey(refreshed.access_token, challenge.challengeId, user.authenticator.authenticate(challenge.options));
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    const claims = decodeJwt(body.access_token);
    expect(claims).toMatchObject({ sub: user.userId, sid: before['sid'], acr: 'aal2', amr: ['pwd', 'swk', 'mfa'], auth_time: Math.floor(t.clock.now() / 1000) });
    expect(claims.auth_time as number).toBeGreaterThan(before['auth_time'] as number);
    expect(eventsOf(user.userId, 'step_up.completed')).toEqual([expect.objectContaining({ details: { amr: 'pwd swk mfa' } })]);
    // The stepped-up token may now add a factor.
    expect((await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(body.access_token))).statusCode).toBe(201);
  });

  it('a refused step-up assertion (UV=0) gives no token and leaves auth_time alone', async () => {
    const user = await signUpWithPasskey();
    t.clock.advanceSeconds(6 * 60);
    const challenge = await passkeyChallenge(user.accessToken, user.passkeyFactorId);
    expectRefused(await verifyPasskey(user.accessToken, challenge.challengeId, user.authenticator.authenticate(challenge.options, { userVerified: false })));
    expectProblem(await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.accessToken)), 401, 'insufficient_authentication');
  });
});

describe('removing a passkey (MG-05/MG-06)', () => {
  it('after DELETE its credential no longer works, even on a challenge issued before the removal', async () => {
    const user = await signUpWithPasskey({}, 'first');
    const second = createSoftAuthenticator();
    const enrollment = await enrollPasskey(user.accessToken, 'second');
    expect((await confirmPasskey(user.accessToken, enrollment.factorId, second.register(enrollment.options))).statusCode).toBe(200);
    const secondCredential = second.lastCredentialId();

    // A login is waiting with a challenge for the second passkey when it is removed elsewhere.
    const pendingLogin = await loginForMfaToken(t, user);
    const openChallenge = await passkeyChallenge(pendingLogin, enrollment.factorId);
    const removal = await t.app.inject({ method: 'DELETE', url: `/v1/factors/${enrollment.factorId}`, headers: bearer(user.accessToken) });
    expect(removal.statusCode, removal.body).toBe(204);
    expect(eventsOf(user.userId, 'factor.removed')).toEqual([expect.objectContaining({ factorId: enrollment.factorId, details: expect.objectContaining({ type: 'webauthn' }) })]);

    // The login in flight ended with the removal (RC-03): its mfa_token is dead, whatever it offers.
    const late = await verifyPasskey(pendingLogin, openChallenge.challengeId, second.authenticate(openChallenge.options));
    expectProblem(late, 401, 'invalid_token');
    expect(late.json()).not.toHaveProperty('access_token');
    // A new login: the removed factor cannot be challenged, nor its credential answer the remaining passkey's challenge.
    const nextLogin = await loginForMfaToken(t, user);
    expectProblem(await postJson(t.app, '/v1/mfa/challenge', { factor_id: enrollment.factorId }, bearer(nextLogin)), 404, 'not_found');
    const firstChallenge = await passkeyChallenge(nextLogin, user.passkeyFactorId);
    expectRefused(await verifyPasskey(nextLogin, firstChallenge.challengeId, second.authenticate(firstChallenge.options, { useCredential: secondCredential })));
    expectTokens(await verifyPasskey(nextLogin, firstChallenge.challengeId, user.authenticator.authenticate(firstChallenge.options)));

    expect((await factorsOf(user.accessToken)).map((factor) => factor.id)).not.toContain(enrollment.factorId);
    const login = (await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json();
    expect(login.factors.map((factor: { id: string }) => factor.id)).toEqual([user.passkeyFactorId]);
  });

  it('the last passkey cannot be removed (403)', async () => {
    const user = await signUpWithPasskey();
    const response = await t.app.inject({ method: 'DELETE', url: `/v1/factors/${user.passkeyFactorId}`, headers: bearer(user.accessToken) });
    expectProblem(response, 403, 'forbidden');
    expectTokens(await loginWithPasskey(user));
  });
});

// --- refusals -------------------------------------------------------------------------------------

const assertionDefects: Array<[string, AuthenticationOverrides]> = [
  ['WA-02: another origin', { origin: 'https://evil.test' }],
  ['WA-02: a look-alike origin', { origin: 'http://twofold.test.evil.test' }],
  ['WA-02: the right host over https instead of the configured http origin', { origin: 'https://twofold.test' }],
  ['WA-02: another RP ID in authenticatorData', { rpId: 'evil.test' }],
  ['WA-02: a parent-domain RP ID', { rpId: 'test' }],
  ['WA-03: user verification off (UV=0)', { userVerified: false }],
  ['WA-02: user presence off (UP=0)', { userPresent: false }],
  ['WA-02: a corrupted signature', { signature: 'corrupt' }],
  ['WA-04: a psychic signature (r = s = 0)', { signature: 'zero' }],
  ['WA-02: a signature not in DER form', { signature: 'raw' }],
  ['WA-02: clientDataJSON.type webauthn.create', { type: 'webauthn.create' }],
  ['WA-01: a challenge the server did not issue', { challenge: randomChallenge() }],
];

describe('WA-01..WA-04: login assertions the server refuses with 401 invalid_code', () => {
  it.each(assertionDefects)('%s', async (_name, overrides) => {
    const user = await signUpWithPasskey();
    const mfaToken = await loginForMfaToken(t, user);
    const challenge = await passkeyChallenge(mfaToken, user.passkeyFactorId);
    const failuresBefore = eventsOf(user.userId, 'mfa.failed').length;
    expectRefused(await verifyPasskey(mfaToken, challenge.challengeId, user.authenticator.authenticate(challenge.options, overrides)));
    expect(eventsOf(user.userId, 'mfa.failed')).toHaveLength(failuresBefore + 1);
    expect(eventsOf(user.userId, 'webauthn.counter_regression')).toEqual([]);
    // Control: the same login with an honest assertion on a new challenge works.
    const fresh = await passkeyChallenge(mfaToken, user.passkeyFactorId);
    expectTokens(await verifyPasskey(mfaToken, fresh.challengeId, user.authenticator.authenticate(fresh.options)));
  });
});

const registrationDefects: Array<[string, RegistrationOverrides]> = [
  ['WA-02: another origin', { origin: 'https://evil.test' }],
  ['WA-02: another RP ID in authenticatorData', { rpId: 'evil.test' }],
  ['WA-03: user verification off (UV=0)', { userVerified: false }],
  ['WA-02: user presence off (UP=0)', { userPresent: false }],
  ['WA-02: clientDataJSON.type webauthn.get', { type: 'webauthn.get' }],
  ['WA-01: a challenge the server did not issue', { challenge: randomChallenge() }],
];

describe('WA-01..WA-03/WA-06: registrations the server refuses with 401 invalid_code', () => {
  it.each(registrationDefects)('%s', async (_name, overrides) => {
    const user = await registerUser(t);
    const enrollment = await enrollPasskey(user.mfaToken);
    const authenticator = createSoftAuthenticator();
    expectRefused(await confirmPasskey(user.mfaToken, enrollment.factorId, authenticator.register(enrollment.options, overrides), enrollment.challengeId));
    expect(eventsOf(user.userId, 'webauthn.registration_failed')).toEqual([expect.objectContaining({ factorId: enrollment.factorId })]);
    expect(eventsOf(user.userId, 'factor.activated')).toEqual([]);
    // Control: a new registration challenge for the same pending factor, answered honestly, works.
    const again = await passkeyChallenge(user.mfaToken, enrollment.factorId);
    expect(again.options.authenticatorSelection.userVerification).toBe('required');
    expectTokens(await confirmPasskey(user.mfaToken, enrollment.factorId, authenticator.register(again.options), again.challengeId));
  });

  it('LOG-01/WA-01: a refused registration is recorded without the challenge the server expected (still open, it is not for the audit trail)', async () => {
    const user = await registerUser(t);
    const enrollment = await enrollPasskey(user.mfaToken);
    const expected = enrollment.options.challenge as string;
    expectRefused(await confirmPasskey(user.mfaToken, enrollment.factorId, createSoftAuthenticator().register(enrollment.options, { challenge: randomChallenge() }), enrollment.challengeId));
    const [event] = eventsOf(user.userId, 'webauthn.registration_failed');
    expect(String(event!.details?.['reason'])).toContain('challenge');
    expect(JSON.stringify(event)).not.toContain(expected);
    await t.ctx.auditTrail.flush();
    const stored = await t.ctx.db.selectFrom('security_events').select('details').where('user_id', '=', user.userId).where('type', '=', 'webauthn.registration_failed').execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.details).not.toContain(expected);
  });

  it('WA-06: a key algorithm outside the allowlist (ES384) is refused', async () => {
    const user = await registerUser(t);
    const enrollment = await enrollPasskey(user.mfaToken);
    const es384 = createSoftAuthenticator({ algorithm: -35 });
    // The options do not offer it (a real authenticator would decline) …
    expect(() => es384.register(enrollment.options)).toThrow(SoftAuthenticatorError);
    // … and a response that uses it anyway is refused.
    expectRefused(await confirmPasskey(user.mfaToken, enrollment.factorId, es384.register(enrollment.options, { ignorePubKeyCredParams: true })));
  });

  it('WA-06: a credential id already registered to another user is refused (4xx), and the owner is unaffected', async () => {
    const victim = await signUpWithPasskey();
    const attacker = await registerUser(t);
    const enrollment = await enrollPasskey(attacker.mfaToken);
    const attackerKey = createSoftAuthenticator();
    const response = await confirmPasskey(attacker.mfaToken, enrollment.factorId, attackerKey.register(enrollment.options, { credentialId: victim.credentialId }));
    expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(response.body).not.toContain('access_token');
    expect(eventsOf(attacker.userId, 'factor.activated')).toEqual([]);
    // Still pending: the attacker's account has no active factor.
    const login = (await postJson(t.app, '/v1/login', { username: attacker.username, password: attacker.password })).json();
    expect(login).toMatchObject({ next: 'enroll', factors: [] });
    // The victim's passkey still logs the victim in — and only the victim.
    expectTokens(await loginWithPasskey(victim));
  });

  it('WA-06: the same credential cannot be registered twice by the same user', async () => {
    const user = await signUpWithPasskey();
    const enrollment = await enrollPasskey(user.accessToken);
    const copy = createSoftAuthenticator();
    const response = await confirmPasskey(user.accessToken, enrollment.factorId, copy.register(enrollment.options, { credentialId: user.credentialId, ignoreExcludeCredentials: true }));
    expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect((await factorsOf(user.accessToken)).filter((factor) => factor.status === 'active')).toHaveLength(1);
  });
});

describe('WA-01: challenges are single-use and bound to one transaction', () => {
  it('a replayed assertion is refused: the second use of a challenge fails (authenticator without a counter)', async () => {
    const user = await signUpWithPasskey({ countsSignatures: false });
    const challenge = await passkeyChallenge(user.accessToken, user.passkeyFactorId);
    const assertion = user.authenticator.authenticate(challenge.options);
    const first = await verifyPasskey(user.accessToken, challenge.challengeId, assertion);
    expect(first.statusCode, first.body).toBe(200);
    const stepped = first.json().access_token;
    expectRefused(await verifyPasskey(stepped, challenge.challengeId, assertion));
    // Not even a freshly signed assertion over the used challenge.
    expectRefused(await verifyPasskey(stepped, challenge.challengeId, user.authenticator.authenticate(challenge.options)));
    expect(eventsOf(user.userId, 'step_up.completed')).toHaveLength(1);
  });

  it('a login assertion cannot be replayed into the next login', async () => {
    const user = await signUpWithPasskey({ countsSignatures: false });
    const firstLogin = await loginForMfaToken(t, user);
    const firstChallenge = await passkeyChallenge(firstLogin, user.passkeyFactorId);
    const assertion = user.authenticator.authenticate(firstChallenge.options);
    expectTokens(await verifyPasskey(firstLogin, firstChallenge.challengeId, assertion));

    const secondLogin = await loginForMfaToken(t, user);
    const secondChallenge = await passkeyChallenge(secondLogin, user.passkeyFactorId);
    expectRefused(await verifyPasskey(secondLogin, firstChallenge.challengeId, assertion));
    expectRefused(await verifyPasskey(secondLogin, secondChallenge.challengeId, assertion));
    expectTokens(await verifyPasskey(secondLogin, secondChallenge.challengeId, user.authenticator.authenticate(secondChallenge.options)));
  });

  it("another login's challenge is refused, even with a valid assertion over it", async () => {
    const user = await signUpWithPasskey();
    const loginA = await loginForMfaToken(t, user);
    const loginB = await loginForMfaToken(t, user);
    const challengeA = await passkeyChallenge(loginA, user.passkeyFactorId);
    const overA = user.authenticator.authenticate(challengeA.options);
    expectRefused(await verifyPasskey(loginB, challengeA.challengeId, overA));
    // Control: the assertion was good — for login A.
    expectTokens(await verifyPasskey(loginA, challengeA.challengeId, overA));
  });

  it('WA-01/WA-04: an attacker cannot use their own transaction with the victim, nor the victim’s with theirs', async () => {
    const victim = await signUpWithPasskey();
    const attacker = await signUpWithPasskey();
    const victimLogin = await loginForMfaToken(t, victim);
    const attackerLogin = await loginForMfaToken(t, attacker);
    const victimChallenge = await passkeyChallenge(victimLogin, victim.passkeyFactorId);
    const attackerChallenge = await passkeyChallenge(attackerLogin, attacker.passkeyFactorId);

    // The attacker's challenge_id on the victim's login, answered with the victim's passkey.
    expectRefused(await verifyPasskey(victimLogin, attackerChallenge.challengeId, victim.authenticator.authenticate(attackerChallenge.options, { useCredential: victim.credentialId })));
    // The attacker's own login, with the victim's passkey relayed over the attacker's challenge.
    expectRefused(await verifyPasskey(attackerLogin, attackerChallenge.challengeId, victim.authenticator.authenticate(attackerChallenge.options, { useCredential: victim.credentialId })));
    // The attacker's login with the victim's challenge and a victim assertion over it.
    expectRefused(await verifyPasskey(attackerLogin, victimChallenge.challengeId, victim.authenticator.authenticate(victimChallenge.options)));
    // The attacker's login naming the victim's factor.
    expectProblem(await postJson(t.app, '/v1/mfa/challenge', { factor_id: victim.passkeyFactorId }, bearer(attackerLogin)), 404, 'not_found');
    expectRefused(await verifyPasskey(attackerLogin, attackerChallenge.challengeId, attacker.authenticator.authenticate(attackerChallenge.options), victim.passkeyFactorId));

    expect(eventsOf(victim.userId, 'login.completed')).toHaveLength(1);
    expect(eventsOf(attacker.userId, 'login.completed')).toHaveLength(1);
    // Both can still log in as themselves.
    expectTokens(await verifyPasskey(victimLogin, victimChallenge.challengeId, victim.authenticator.authenticate(victimChallenge.options)));
  });

  it("WA-04: a credential of another user presented for this user's challenge is refused", async () => {
    const victim = await signUpWithPasskey();
    const attacker = await signUpWithPasskey();
    const victimLogin = await loginForMfaToken(t, victim);
    const challenge = await passkeyChallenge(victimLogin, victim.passkeyFactorId);
    // The attacker's own (registered, valid) passkey signs the victim's challenge.
    expectRefused(await verifyPasskey(victimLogin, challenge.challengeId, attacker.authenticator.authenticate(challenge.options, { useCredential: attacker.credentialId })));
    expectRefused(await verifyPasskey(victimLogin, challenge.challengeId, attacker.authenticator.authenticate(challenge.options, { useCredential: attacker.credentialId }), victim.passkeyFactorId));
    // The attacker's key, claiming the victim's credential id.
    expectRefused(await verifyPasskey(victimLogin, challenge.challengeId, attacker.authenticator.authenticate(challenge.options, { useCredential: attacker.credentialId, claimedId: victim.credentialId })));
    expect(eventsOf(victim.userId, 'login.completed')).toHaveLength(1);
    expectTokens(await verifyPasskey(victimLogin, challenge.challengeId, victim.authenticator.authenticate(challenge.options)));
  });

  it('a challenge older than 5 minutes is refused (step-up), a new one works', async () => {
    const user = await signUpWithPasskey();
    const challenge = await passkeyChallenge(user.accessToken, user.passkeyFactorId);
    t.clock.advance(fiveMinutesAndASecond);
    expectRefused(await verifyPasskey(user.accessToken, challenge.challengeId, user.authenticator.authenticate(challenge.options)));
    const fresh = await passkeyChallenge(user.accessToken, user.passkeyFactorId);
    expect((await verifyPasskey(user.accessToken, fresh.challengeId, user.authenticator.authenticate(fresh.options))).statusCode).toBe(200);
  });

  it('a registration challenge older than 5 minutes is refused; the factor stays pending', async () => {
    const user = await signUpWithPasskey();
    const enrollment = await enrollPasskey(user.accessToken);
    t.clock.advance(fiveMinutesAndASecond);
    const key = createSoftAuthenticator();
    // Stale now, the session must step up before it may confirm (as before it could start)…
    expectProblem(await confirmPasskey(user.accessToken, enrollment.factorId, key.register(enrollment.options), enrollment.challengeId), 401, 'insufficient_authentication');
    const stepUpChallenge = await passkeyChallenge(user.accessToken, user.passkeyFactorId);
    const stepUp = await verifyPasskey(user.accessToken, stepUpChallenge.challengeId, user.authenticator.authenticate(stepUpChallenge.options));
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    // …and then the old registration challenge is still refused.
    expectRefused(await confirmPasskey(stepUp.json().access_token, enrollment.factorId, key.register(enrollment.options), enrollment.challengeId));
    expect((await factorsOf(user.accessToken)).find((factor) => factor.id === enrollment.factorId)).toMatchObject({ status: 'pending' });
    expect(eventsOf(user.userId, 'factor.activated')).toHaveLength(1);
  });

  it('a login challenge answered within 5 minutes works (the limit is the age, not the clock moving)', async () => {
    const user = await signUpWithPasskey();
    const mfaToken = await loginForMfaToken(t, user);
    const challenge = await passkeyChallenge(mfaToken, user.passkeyFactorId);
    t.clock.advanceSeconds(4 * 60 + 50);
    expectTokens(await verifyPasskey(mfaToken, challenge.challengeId, user.authenticator.authenticate(challenge.options)));
  });
});

describe('WA-05: the signature counter', () => {
  it('WA-13: a counter that stays equal or goes back is refused, recorded and locks the passkey; the stored counter does not move back', async () => {
    const user = await signUpWithPasskey();
    user.authenticator.setSignCount(user.credentialId, 4);
    expectTokens(await loginWithPasskey(user)); // counter 5
    expect(user.authenticator.signCount(user.credentialId)).toBe(5);

    for (const [signCount, expectedEvents] of [
      [5, 1],
      [3, 2],
      [0, 3],
    ] as const) {
      expectRefused(await loginWithPasskey(user, { signCount }));
      const events = eventsOf(user.userId, 'webauthn.counter_regression');
      expect(events).toHaveLength(expectedEvents);
      expect(events.at(-1)).toMatchObject({ factorId: user.passkeyFactorId, details: { stored_count: 5 } });
    }
    // The authenticator's real counter (6) is ahead of the stored one, but the passkey is locked now
    // (WA-13): whichever of the two copies is the original, neither signs in until it is re-added.
    expectRefused(await loginWithPasskey(user));
    expect(eventsOf(user.userId, 'webauthn.counter_regression')).toHaveLength(3);
    const stored = await t.ctx.db.selectFrom('webauthn_credentials').select(['sign_count', 'locked_at']).where('factor_id', '=', user.passkeyFactorId).executeTakeFirstOrThrow();
    expect(Number(stored.sign_count)).toBe(5);
    expect(stored.locked_at).not.toBeNull();
  });

  it('a cloned authenticator is caught when the original signs again', async () => {
    const user = await signUpWithPasskey();
    expectTokens(await loginWithPasskey(user)); // original: 1
    expectTokens(await loginWithPasskey(user, { signCount: 2 })); // clone: 2
    expectRefused(await loginWithPasskey(user)); // original: 2 again
    expect(eventsOf(user.userId, 'webauthn.counter_regression')).toHaveLength(1);
  });

  it('only a genuinely signed assertion raises the clone alarm: a forged one with a low counter is refused without the event', async () => {
    const user = await signUpWithPasskey();
    expectTokens(await loginWithPasskey(user));
    expectTokens(await loginWithPasskey(user)); // stored counter: 2
    // Someone with the password but without the key sends a made-up assertion with counter 1.
    expectRefused(await loginWithPasskey(user, { signCount: 1, signature: 'zero' }));
    expectRefused(await loginWithPasskey(user, { signCount: 2, signature: 'corrupt' }));
    // WebAuthn §7.2 checks the signature (step 20) before the counter (step 21): the counter of an
    // assertion that is not signed by the credential says nothing about a cloned authenticator.
    expect(eventsOf(user.userId, 'webauthn.counter_regression')).toEqual([]);
  });

  it('an authenticator that does not count (always 0) is accepted every time', async () => {
    const user = await signUpWithPasskey({ countsSignatures: false });
    for (let i = 0; i < 3; i += 1) {
      const response = await loginWithPasskey(user);
      expectTokens(response);
    }
    expect(user.authenticator.signCount(user.credentialId)).toBe(0);
    expect(eventsOf(user.userId, 'webauthn.counter_regression')).toEqual([]);
  });
});

describe('RFC 9068 claims after a passkey login (JW-11)', () => {
  it('carry iss, aud, sub, client_id, iat, exp, jti, auth_time and no biometric claims', async () => {
    const user = await signUpWithPasskey();
    const claims = decodeJwt(expectTokens(await loginWithPasskey(user)).access_token);
    expect(claims).toMatchObject({ iss: testPublicUrl, aud: testPublicUrl, sub: user.userId });
    for (const claim of ['client_id', 'iat', 'exp', 'jti', 'auth_time']) expect(claims).toHaveProperty(claim);
    expect(claims.amr).toEqual(['pwd', 'swk', 'mfa']);
    expect(JSON.stringify(claims)).not.toMatch(/fpt|face|iris|bio|user_?verif/i);
  });
});
