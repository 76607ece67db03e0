// POST /v1/login: only an mfa_token, never a token that opens the API; failures
// that do not reveal whether the account exists; a rehash when parameters change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PasswordHasher } from '../../src/core/password/hasher.js';
import { bearer, expectProblem, getJson, postJson, registerUser, signUp, strongPassword, uniqueUsername } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

function countHasherCalls(): { counts: Record<string, number>; restore(): void } {
  const original = t.ctx.passwordHasher;
  const counts: Record<string, number> = { hash: 0, verify: 0, verifyAgainstDummy: 0 };
  const counting: PasswordHasher = {
    hash: (password) => ((counts['hash']! += 1), original.hash(password)),
    verify: (hash, password) => ((counts['verify']! += 1), original.verify(hash, password)),
    verifyAgainstDummy: (password) => ((counts['verifyAgainstDummy']! += 1), original.verifyAgainstDummy(password)),
    needsRehash: (hash) => original.needsRehash(hash),
  };
  t.ctx.passwordHasher = counting;
  return { counts, restore: () => void (t.ctx.passwordHasher = original) };
}

describe('POST /v1/login', () => {
  it('LG-07: a correct password gives only {mfa_token, expires_in, next, factors} — no access or refresh token, no cookie', async () => {
    const user = await signUp(t);
    const response = await postJson(t.app, '/v1/login', { username: user.username, password: user.password });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['expires_in', 'factors', 'mfa_token', 'next']);
    expect(body).toMatchObject({ expires_in: 300, next: 'verify', factors: [{ id: user.factorId, type: 'totp', label: null }] });
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(response.body).not.toMatch(/access_token|refresh_token|tfr_/);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('says next: "enroll" with no factors while no factor is active', async () => {
    const user = await registerUser(t);
    const response = await postJson(t.app, '/v1/login', { username: user.username, password: user.password });
    expect(response.json()).toMatchObject({ next: 'enroll', factors: [] });
  });

  it('accepts the username in any case or width (NFKC, case-folded)', async () => {
    const user = await registerUser(t, { username: uniqueUsername('MiXeD') });
    expect((await postJson(t.app, '/v1/login', { username: user.username.toUpperCase(), password: user.password })).statusCode).toBe(200);
  });

  it('LG-01/02: unknown user and wrong password give byte-identical 401 invalid_credentials responses', async () => {
    const user = await registerUser(t);
    const wrongPassword = await postJson(t.app, '/v1/login', { username: user.username, password: 'not the password at all' });
    const unknownUser = await postJson(t.app, '/v1/login', { username: uniqueUsername('nobody'), password: 'not the password at all' });
    const invalidName = await postJson(t.app, '/v1/login', { username: '!!', password: 'not the password at all' });
    expectProblem(wrongPassword, 401, 'invalid_credentials');
    expect(unknownUser.body).toBe(wrongPassword.body);
    expect(invalidName.body).toBe(wrongPassword.body);
    const comparableHeaders = (r: typeof wrongPassword) => ({ ...r.headers, date: undefined });
    expect(comparableHeaders(unknownUser)).toEqual(comparableHeaders(wrongPassword));
  });

  it('LG-01/03: an unknown user still costs exactly one argon2 verify (against a dummy hash)', async () => {
    const user = await registerUser(t);
    const spy = countHasherCalls();
    try {
      await postJson(t.app, '/v1/login', { username: uniqueUsername('ghost'), password: 'whatever it may be' });
      expect(spy.counts).toEqual({ hash: 0, verify: 0, verifyAgainstDummy: 1 });
      await postJson(t.app, '/v1/login', { username: user.username, password: 'whatever it may be' });
      expect(spy.counts).toEqual({ hash: 0, verify: 1, verifyAgainstDummy: 1 });
    } finally {
      spy.restore();
    }
  });

  it('a wrong password counts toward the account failure counter', async () => {
    const user = await registerUser(t);
    for (let i = 0; i < 3; i += 1) await postJson(t.app, '/v1/login', { username: user.username, password: `wrong password ${i}` });
    await t.ctx.background.flush(); // counted off the answer's path (LG-01/02/03: no timing difference)
    const row = await t.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow();
    expect(row.failed_attempts).toBe(3);
  });

  it('a disabled account fails exactly like a wrong password', async () => {
    const user = await registerUser(t);
    const wrong = await postJson(t.app, '/v1/login', { username: user.username, password: 'not the password at all' });
    await t.ctx.db.updateTable('users').set({ disabled_at: t.clock.now() }).where('id', '=', user.userId).execute();
    const disabled = await postJson(t.app, '/v1/login', { username: user.username, password: user.password });
    expectProblem(disabled, 401, 'invalid_credentials');
    expect(disabled.body).toBe(wrong.body);
  });

  it('each login opens its own pending session with a distinct mfa_token (SS-01)', async () => {
    const user = await registerUser(t);
    const tokens = new Set<string>();
    for (let i = 0; i < 5; i += 1) tokens.add((await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json().mfa_token);
    expect(tokens.size).toBe(5);
  });

  it('LG-07/FL-01: the mfa_token from login is refused at /v1/me and at /v1/token/refresh', async () => {
    const user = await signUp(t);
    const mfaToken = (await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json().mfa_token;
    expectProblem(await getJson(t.app, '/v1/me', bearer(mfaToken)), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/token/refresh', { refresh_token: mfaToken }), 401, 'invalid_token');
  });
});

describe('argon2id rehash on login', () => {
  it('a hash made with old parameters is upgraded on the next successful login', async () => {
    const first = await startTestTwofold({ env: { TWOFOLD_ARGON2_TIME_COST: '1' } });
    const user = await registerUser(first, { password: strongPassword });
    await first.stop();

    const second = await startTestTwofold({ restartOf: first, env: { TWOFOLD_ARGON2_TIME_COST: '2' } });
    try {
      const before = await second.ctx.db.selectFrom('users').select('password_hash').where('id', '=', user.userId).executeTakeFirstOrThrow();
      expect(before.password_hash).toContain('t=1');
      expectProblem(await postJson(second.app, '/v1/login', { username: user.username, password: 'a wrong password here' }), 401, 'invalid_credentials');
      const unchanged = await second.ctx.db.selectFrom('users').select('password_hash').where('id', '=', user.userId).executeTakeFirstOrThrow();
      expect(unchanged.password_hash).toBe(before.password_hash);
      expect((await postJson(second.app, '/v1/login', { username: user.username, password: strongPassword })).statusCode).toBe(200);
      const after = await second.ctx.db.selectFrom('users').select('password_hash').where('id', '=', user.userId).executeTakeFirstOrThrow();
      expect(after.password_hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=2,p=1\$/);
      expect((await postJson(second.app, '/v1/login', { username: user.username, password: strongPassword })).statusCode).toBe(200);
    } finally {
      await second.close();
    }
  });
});
