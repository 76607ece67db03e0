// Per-account throttling of failed attempts (LG-04/LG-05): kept in
// the shared key-value store (Redis in the "postgres" project), counting password and second-
// factor failures together, the same for usernames that do not exist, cleared by a success.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, loginForMfaToken, postJson, signUp, totpCode, uniqueUsername } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold({ env: { TWOFOLD_THROTTLE_FREE_FAILURES: '3', TWOFOLD_THROTTLE_MAX_DELAY_SECONDS: '60' } });
});
afterAll(async () => t.close());

const login = (username: string, password: string) => postJson(t.app, '/v1/login', { username, password });

describe('account throttling', () => {
  it('LG-04: after the free failures, each failure doubles a wait answered 429 with Retry-After', async () => {
    const user = await signUp(t);
    for (let i = 0; i < 3; i += 1) expectProblem(await login(user.username, 'wrong password number one'), 401, 'invalid_credentials');
    expectProblem(await login(user.username, 'wrong password number one'), 401, 'invalid_credentials'); // 4th: the wait starts
    const throttled = await login(user.username, user.password); // even the right password waits
    const body = expectProblem(throttled, 429, 'too_many_attempts');
    expect(throttled.headers['retry-after']).toBe('1');
    expect(body['retry_after']).toBe(1);

    t.clock.advanceSeconds(1);
    expectProblem(await login(user.username, 'wrong password number one'), 401, 'invalid_credentials'); // 5th: now 2 s
    expect((await login(user.username, user.password)).headers['retry-after']).toBe('2');
    t.clock.advanceSeconds(2);
    expect((await login(user.username, user.password)).statusCode).toBe(200);
  });

  it('the wait is capped at the configured maximum', async () => {
    const user = await signUp(t);
    for (let i = 0; i < 12; i += 1) {
      await login(user.username, 'wrong password number two');
      t.clock.advanceSeconds(61);
    }
    await login(user.username, 'wrong password number two');
    expect((await login(user.username, user.password)).headers['retry-after']).toBe('60');
  });

  it('LG-01: an unknown username is throttled exactly like an existing one', async () => {
    const known = await signUp(t);
    const unknown = uniqueUsername('ghost');
    const responses = { known: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < 5; i += 1) {
      responses.known.push((await login(known.username, 'wrong password number three')).statusCode);
      responses.unknown.push((await login(unknown, 'wrong password number three')).statusCode);
    }
    expect(responses.unknown).toEqual(responses.known);
    expect(responses.known).toEqual([401, 401, 401, 401, 429]);
    const a = await login(known.username, 'x'.repeat(12));
    const b = await login(unknown, 'x'.repeat(12));
    expect(b.body).toBe(a.body);
  });

  it('throttled attempts cost no password hashing', async () => {
    const user = await signUp(t);
    for (let i = 0; i < 4; i += 1) await login(user.username, 'wrong password number four');
    const original = t.ctx.passwordHasher;
    let calls = 0;
    t.ctx.passwordHasher = { ...original, verify: (...args) => ((calls += 1), original.verify(...args)), verifyAgainstDummy: (p) => ((calls += 1), original.verifyAgainstDummy(p)) };
    try {
      for (let i = 0; i < 20; i += 1) expect((await login(user.username, 'wrong password number four')).statusCode).toBe(429);
      expect(calls).toBe(0);
    } finally {
      t.ctx.passwordHasher = original;
    }
  });

  it('FL-05: wrong second-factor codes count toward the same account throttle', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(60);
    const mfaToken = await loginForMfaToken(t, user);
    const wrong = totpCode(t, user.secret) === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i += 1) await postJson(t.app, '/v1/mfa/verify', { code: wrong }, bearer(mfaToken));
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(mfaToken)), 429, 'too_many_attempts');
    expectProblem(await login(user.username, user.password), 429, 'too_many_attempts');
  });

  it('a completed login clears the count; other accounts are never affected (LG-05)', async () => {
    const user = await signUp(t);
    const bystander = await signUp(t);
    for (let i = 0; i < 3; i += 1) await login(user.username, 'wrong password number five');
    t.clock.advanceSeconds(60);
    const mfaToken = await loginForMfaToken(t, user);
    expect((await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(mfaToken))).statusCode).toBe(200);
    // Three fresh failures are free again.
    for (let i = 0; i < 3; i += 1) expectProblem(await login(user.username, 'wrong password number five'), 401, 'invalid_credentials');
    expect((await login(bystander.username, bystander.password)).statusCode).toBe(200);
  });
});
