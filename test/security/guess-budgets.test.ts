// RC-01: every guess at a secret is counted *before* the secret
// is evaluated, atomically, so a burst of 1,000 parallel wrong guesses for one account gets no
// further than the account's budget — on every path that checks a secret. The attack:
// log in many times (a right password costs nothing), then fire 5 wrong codes per mfa_token all at
// once; with check-then-act throttling 999 of 1,000 were evaluated. Here "evaluated" is what the
// server can only know after looking at the secret: the failure event it records, and the 401
// answer; everything beyond the budget must be a 429 with Retry-After, recorded as nothing.
// Runs on SQLite, on PostgreSQL + Redis, and on PostgreSQL without Redis (the three projects);
// test/cluster/races.test.ts runs the same burst over three server processes.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { SecurityEvent } from '../../src/flows/shared/security-events.js';
import { bearer, expectProblem, loginForMfaToken, postJson, registerUser, signIn, signUp, totpCode, uniqueUsername } from '../helpers/flow.js';
import { lastResetCode, verifyAddress } from '../helpers/outbox.js';
import { smsSignUp, startOtpLogin, uniqueEmail, wrongCode } from '../helpers/otp.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const burst = 1000;

/** Fires every request at once and sorts the answers: evaluated (the given status) or refused (429). */
async function fire(requests: Array<() => Promise<LightMyRequestResponse>>, evaluatedStatus = 401): Promise<{ evaluated: number; refused: number }> {
  const responses = await Promise.all(requests.map((request) => request()));
  const evaluated = responses.filter((response) => response.statusCode === evaluatedStatus).length;
  const refused = responses.filter((response) => response.statusCode === 429);
  for (const response of refused) expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  // Nothing else: no 5xx, no success, no other refusal.
  expect(evaluated + refused.length, responses.map((response) => response.statusCode).join(',')).toBe(requests.length);
  return { evaluated, refused: refused.length };
}

const eventsOf = (t: TestTwofold, type: SecurityEvent['type'], userId: string | undefined) => t.events.filter((event) => event.type === type && event.userId === userId).length;

describe('RC-01: the default budget (10 free guesses, then waits) under a burst', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_THROTTLE_FREE_FAILURES: '10', TWOFOLD_THROTTLE_LOCK_FAILURES: '100', TWOFOLD_DATABASE_QUERY_TIMEOUT_MS: '120000', TWOFOLD_REDIS_COMMAND_TIMEOUT_MS: '60000' } });
  });
  afterAll(async () => t.close());

  it('RC-01: 1,000 parallel wrong TOTP codes over 200 mfa_tokens evaluate at most 11 (the code before evaluated 999)', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(30);
    // A right password costs no guess: 200 logins in small batches (an attacker with the password).
    const mfaTokens: string[] = [];
    for (let batch = 0; batch < 40; batch += 1) mfaTokens.push(...(await Promise.all(Array.from({ length: 5 }, () => loginForMfaToken(t, user)))));
    const wrong = wrongCode(totpCode(t, user.secret));
    const result = await fire(mfaTokens.flatMap((token) => Array.from({ length: 5 }, () => () => postJson(t.app, '/v1/mfa/verify', { code: wrong }, bearer(token)))));
    expect(result.evaluated).toBeLessThanOrEqual(11);
    expect(result.refused).toBeGreaterThanOrEqual(burst - 11);
    expect(eventsOf(t, 'mfa.failed', user.userId)).toBe(result.evaluated);
  });

  it('RC-01: 1,000 parallel wrong passwords for one account hash at most 11 (SQLite measured 60 of 60)', async () => {
    const user = await signUp(t);
    const result = await fire(Array.from({ length: burst }, (_, i) => () => postJson(t.app, '/v1/login', { username: user.username, password: `wrong password number ${i}` })));
    expect(result.evaluated).toBeLessThanOrEqual(11);
    expect(eventsOf(t, 'login.password_failed', user.userId)).toBe(result.evaluated);
    // And the right password waits like every other attempt now.
    expectProblem(await postJson(t.app, '/v1/login', { username: user.username, password: user.password }), 429, 'too_many_attempts');
  });

  it('RC-02: 1,000 refused sign-ins write one "throttled" event, not 1,000 (refusals cost the refused nothing)', async () => {
    const user = await signUp(t);
    const from = (password: string) => t.app.inject({ method: 'POST', url: '/v1/login', remoteAddress: '192.0.2.77', payload: { username: user.username, password }, headers: { 'content-type': 'application/json' } });
    const result = await fire(Array.from({ length: burst }, (_, i) => () => from(`wrong password number ${i}`)));
    expect(result.refused).toBeGreaterThan(900);
    expect(t.events.filter((event) => event.type === 'login.throttled' && event.ip === '192.0.2.77')).toHaveLength(1);
  });

  it('RC-01: a name that matches no account has the same budget', async () => {
    const ghost = uniqueUsername('ghost');
    const result = await fire(Array.from({ length: burst }, (_, i) => () => postJson(t.app, '/v1/login', { username: ghost, password: `wrong password number ${i}` })));
    expect(result.evaluated).toBeLessThanOrEqual(11);
  });

  it('RC-01: right passwords are given back — sequential sign-ins never wait, and a right password does not eat the budget', async () => {
    const user = await signUp(t);
    for (let i = 0; i < 30; i += 1) await loginForMfaToken(t, user);
    for (let i = 0; i < 10; i += 1) expectProblem(await postJson(t.app, '/v1/login', { username: user.username, password: 'a wrong password here' }), 401, 'invalid_credentials');
    // Ten wrong ones spent the free guesses; the right one is evaluated and given back, no wait starts.
    expect((await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).statusCode).toBe(200);
    expect((await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).statusCode).toBe(200);
  });
});

describe('RC-01: every path that checks a secret spends the account budget first (4 guesses here; each token or challenge would allow 10)', () => {
  let t: TestTwofold;
  const budget = 4; // 3 free failures and the one that starts the first wait
  beforeAll(async () => {
    t = await startTestTwofold({
      env: {
        TWOFOLD_THROTTLE_FREE_FAILURES: '3',
        TWOFOLD_THROTTLE_LOCK_FAILURES: '1000',
        TWOFOLD_MFA_MAX_ATTEMPTS: '10',
        TWOFOLD_OTP_MAX_ATTEMPTS: '10',
        TWOFOLD_OTP_RESEND_INTERVAL_SECONDS: '0',
        TWOFOLD_FACTORS: 'totp,sms,email,webauthn,recovery',
        // A burst of 1,000 queues on the connection pool and the Redis connection; a busy machine
        // must not turn that into 503s.
        TWOFOLD_DATABASE_QUERY_TIMEOUT_MS: '120000',
        TWOFOLD_REDIS_COMMAND_TIMEOUT_MS: '60000',
      },
    });
  });
  afterAll(async () => t.close());

  const wrongBurst = (request: (i: number) => Promise<LightMyRequestResponse>) => fire(Array.from({ length: burst }, (_, i) => () => request(i)));

  it('RC-01: recovery codes', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(30);
    const mfaToken = await loginForMfaToken(t, user);
    const result = await wrongBurst(() => postJson(t.app, '/v1/mfa/verify', { recovery_code: 'AAAAA-AAAAA-AAAAA-AAAAA' }, bearer(mfaToken)));
    expect(result.evaluated).toBeLessThanOrEqual(budget);
    expect(eventsOf(t, 'mfa.failed', user.userId)).toBe(result.evaluated);
  });

  it('RC-01: SMS codes of one challenge', async () => {
    const user = await smsSignUp(t);
    const login = await startOtpLogin(t, user, user.otpFactorId, user.destination);
    const result = await wrongBurst(() => postJson(t.app, '/v1/mfa/verify', { challenge_id: login.challengeId, code: wrongCode(login.code) }, bearer(login.mfaToken)));
    expect(result.evaluated).toBeLessThanOrEqual(budget);
    // The right code still works afterwards once the wait is over: the guesses were the attacker's.
    t.clock.advanceSeconds(2);
    expect((await postJson(t.app, '/v1/mfa/verify', { challenge_id: login.challengeId, code: login.code }, bearer(login.mfaToken))).statusCode).toBe(200);
  });

  it('RC-01: passkey assertions', async () => {
    const authenticator = createSoftAuthenticator();
    const user = await registerUser(t);
    const enrollment = (await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.mfaToken))).json();
    const credential = authenticator.register(enrollment.options);
    expect((await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { credential, challenge_id: enrollment.challenge_id }, bearer(user.mfaToken))).statusCode).toBe(200);
    const mfaToken = await loginForMfaToken(t, user);
    const challenge = (await postJson(t.app, '/v1/mfa/challenge', { factor_id: enrollment.factor_id }, bearer(mfaToken))).json();
    const forged = authenticator.authenticate(challenge.options, { signature: 'corrupt' });
    const result = await wrongBurst(() => postJson(t.app, '/v1/mfa/verify', { challenge_id: challenge.challenge_id, credential: forged }, bearer(mfaToken)));
    expect(result.evaluated).toBeLessThanOrEqual(budget);
  });

  it('RC-01: remembered-browser tokens', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(30);
    const mfaToken = await loginForMfaToken(t, user);
    const result = await wrongBurst(() => postJson(t.app, '/v1/mfa/verify', { device_token: `tfd_${randomBytes(32).toString('base64url')}` }, bearer(mfaToken)));
    expect(result.evaluated).toBeLessThanOrEqual(budget);
  });

  it('RC-01: step-up codes on an access token', async () => {
    const user = await signUp(t);
    const result = await wrongBurst(() => postJson(t.app, '/v1/mfa/verify', { code: wrongCode(totpCode(t, user.secret)) }, bearer(user.accessToken)));
    expect(result.evaluated).toBeLessThanOrEqual(budget);
  });

  it('RC-01: the code that confirms a new factor', async () => {
    const user = await registerUser(t);
    const result = await wrongBurst(() => postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code: wrongCode(totpCode(t, user.secret)) }, bearer(user.mfaToken)));
    expect(result.evaluated).toBeLessThanOrEqual(budget);
  });

  it('RC-01: password-reset codes', async () => {
    const user = await registerUser(t, { email: uniqueEmail() });
    const result = await wrongBurst(() => postJson(t.app, '/v1/password/reset', { username: user.username, code: 'AAAAA-AAAAA-AAAAA-AAAAA', new_password: 'a brand new passphrase' }));
    expect(result.evaluated).toBeLessThanOrEqual(budget);
    expect(eventsOf(t, 'password.reset_failed', user.userId)).toBe(result.evaluated);
  });

  it('RC-01: the current password of a password change', async () => {
    const user = await signUp(t);
    const result = await wrongBurst((i) => postJson(t.app, '/v1/password', { current_password: `not the password ${i}`, new_password: 'a brand new passphrase' }, bearer(user.accessToken)));
    expect(result.evaluated).toBeLessThanOrEqual(budget);
    expect(eventsOf(t, 'password.change_failed', user.userId)).toBe(result.evaluated);
  });

  it('RC-01: a reset code that is right is still given back its guess', async () => {
    const email = uniqueEmail();
    const user = await registerUser(t, { email });
    await verifyAddress(t, email);
    await postJson(t.app, '/v1/password/forgot', { username: user.username });
    const code = await lastResetCode(t, email);
    expect((await postJson(t.app, '/v1/password/reset', { username: user.username, code, new_password: 'a brand new passphrase' })).statusCode).toBe(204);
    for (let i = 0; i < 3; i += 1) expectProblem(await postJson(t.app, '/v1/login', { username: user.username, password: 'a wrong password' }), 401, 'invalid_credentials');
    expect((await postJson(t.app, '/v1/login', { username: user.username, password: 'a brand new passphrase' })).statusCode).toBe(200);
  });

  it('RC-01: a completed sign-in clears the count; a burst refused with 429 left nothing to clear', async () => {
    const user = await signUp(t);
    for (let i = 0; i < 3; i += 1) expectProblem(await postJson(t.app, '/v1/login', { username: user.username, password: 'a wrong password' }), 401, 'invalid_credentials');
    await signIn(t, user);
    for (let i = 0; i < 3; i += 1) expectProblem(await postJson(t.app, '/v1/login', { username: user.username, password: 'a wrong password' }), 401, 'invalid_credentials');
  });
});

describe('RC-01/RC-02: the budget of a client network', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_THROTTLE_IP_FAILURES: '20', TWOFOLD_TRUSTED_PROXIES: '127.0.0.1', TWOFOLD_DATABASE_QUERY_TIMEOUT_MS: '120000', TWOFOLD_REDIS_COMMAND_TIMEOUT_MS: '60000' } });
  });
  afterAll(async () => t.close());

  const loginFrom = (headers: Record<string, string>, remoteAddress: string, username: string) =>
    t.app.inject({ method: 'POST', url: '/v1/login', remoteAddress, payload: { username, password: 'a wrong password here' }, headers: { 'content-type': 'application/json', ...headers } });

  it('RC-01: 1,000 parallel wrong passwords from one address, spread over 1,000 names, evaluate at most the 20 of its window', async () => {
    const result = await fire(Array.from({ length: burst }, (_, i) => () => loginFrom({}, '198.51.100.7', uniqueUsername(`spray${i}x`))));
    expect(result.evaluated).toBe(20);
  });

  it('RC-02: 300 failed logins from 300 addresses of one IPv6 /64 (behind a trusted proxy) count as one client', async () => {
    const prefix = `2001:db8:${randomBytes(2).toString('hex')}:1`;
    const result = await fire(Array.from({ length: 300 }, (_, i) => () => loginFrom({ 'x-forwarded-for': `${prefix}::${(i + 1).toString(16)}` }, '127.0.0.1', uniqueUsername('v6spray'))));
    expect(result.evaluated).toBe(20);
    // The neighbouring /64 is another subscriber, with a budget of its own.
    expect((await loginFrom({ 'x-forwarded-for': `2001:db8:${randomBytes(2).toString('hex')}:2::1` }, '127.0.0.1', uniqueUsername('v6other'))).statusCode).toBe(401);
  });

  it('RC-02: an IPv4-mapped IPv6 address spends the budget of the IPv4 client it wraps', async () => {
    const result = await fire([
      ...Array.from({ length: 15 }, () => () => loginFrom({}, '203.0.113.9', uniqueUsername('mapped'))),
      ...Array.from({ length: 15 }, () => () => loginFrom({}, '::ffff:203.0.113.9', uniqueUsername('mapped'))),
    ]);
    expect(result.evaluated).toBe(20);
  });

  it('RC-01: a client header cannot pick another budget when it does not come from a trusted proxy', async () => {
    const result = await fire(Array.from({ length: 40 }, (_, i) => () => loginFrom({ 'x-forwarded-for': `192.0.2.${i}` }, '198.51.100.200', uniqueUsername('spoof'))));
    expect(result.evaluated).toBe(20);
  });

  it('a right password gives its network guess back', async () => {
    const user = await signUp(t);
    for (let i = 0; i < 40; i += 1) {
      const response = await t.app.inject({ method: 'POST', url: '/v1/login', remoteAddress: '198.51.100.99', payload: { username: user.username, password: user.password }, headers: { 'content-type': 'application/json' } });
      expect(response.statusCode, response.body).toBe(200);
    }
  });
});
