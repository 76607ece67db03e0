// The account lock after consecutive failures (LG-04), counted for unknown names
// too (LG-01), lifted by an admin or a password reset; and the per-IP throttle with
// X-Forwarded-For honoured only from trusted proxies (LG-05).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unlockUserAccount } from '../../src/flows/account/admin.js';
import type { MemoryStore } from '../../src/store/kv/memory.js';
import { expectProblem, postJson, signUp, uniqueUsername } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

describe('account lock (LG-04)', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_THROTTLE_FREE_FAILURES: '2', TWOFOLD_THROTTLE_LOCK_FAILURES: '6', TWOFOLD_THROTTLE_MAX_DELAY_SECONDS: '1' } });
  });
  afterAll(async () => t.close());

  const login = (username: string, password: string) => postJson(t.app, '/v1/login', { username, password });

  /** Fails until locked, stepping over the waits between failures. */
  async function failUntilLocked(username: string): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      statuses.push((await login(username, 'definitely not it')).statusCode);
      t.clock.advanceSeconds(2);
    }
    return statuses;
  }

  it('LG-04: at the threshold the account locks — even the right password is refused — and a security event is recorded', async () => {
    const user = await signUp(t);
    expect(await failUntilLocked(user.username)).toEqual([401, 401, 401, 401, 401, 401]);
    const locked = await login(user.username, user.password);
    const body = expectProblem(locked, 429, 'too_many_attempts');
    expect(body['locked']).toBe(true);
    expect(locked.headers['retry-after']).toBeUndefined();
    t.clock.advanceSeconds(3600);
    expectProblem(await login(user.username, user.password), 429, 'too_many_attempts');
    await t.ctx.background.flush(); // the lock reaches the user row off the answer's path
    const row = await t.ctx.db.selectFrom('users').select('locked_at').where('id', '=', user.userId).executeTakeFirstOrThrow();
    expect(row.locked_at).not.toBeNull();
    expect(t.events.some((event) => event.type === 'account.locked' && event.userId === user.userId)).toBe(true);
  });

  it('LG-01: an unknown username locks exactly like an existing one (same statuses, same body)', async () => {
    const known = await signUp(t);
    const unknown = uniqueUsername('ghost');
    expect(await failUntilLocked(unknown)).toEqual(await failUntilLocked(known.username));
    const a = await login(known.username, 'x'.repeat(12));
    const b = await login(unknown, 'x'.repeat(12));
    expect(a.statusCode).toBe(429);
    expect(b.body).toBe(a.body);
  });

  it('an administrator unlocks the account (recorded); the count starts over', async () => {
    const user = await signUp(t);
    await failUntilLocked(user.username);
    await t.ctx.background.flush(); // the lock reaches the user row off the answer's path
    const result = await unlockUserAccount(t.ctx, user.username, 'test-operator');
    expect(result.wasLocked).toBe(true);
    expect((await login(user.username, user.password)).statusCode).toBe(200);
    expect(t.events.some((event) => event.type === 'admin.account_unlocked' && event.userId === user.userId)).toBe(true);
  });

  it('the lock holds in the database even if the shared store forgets it', async () => {
    const user = await signUp(t);
    await failUntilLocked(user.username);
    await t.ctx.background.flush(); // the row is written off the answer's path
    // A Redis restart loses the counters; the lock stays because it is also on the user row.
    await t.ctx.kv.delete(...(await import('../../src/core/crypto/digest.js').then(({ sha256Base64url }) => {
      const id = sha256Base64url(user.username);
      return [`throttle:account:${id}:failures`, `throttle:account:${id}:until`, `throttle:account:${id}:locked`];
    })));
    expectProblem(await login(user.username, user.password), 429, 'too_many_attempts');
  });
});

// Without Redis the throttle lives in the bounded in-memory store (TWOFOLD_MEMORY_STORE_MAX_KEYS);
// a flood of made-up usernames must push out other counters, never a lock or a running wait. An
// unknown name's lock lives only there, so forgetting it would also tell unknown names from real
// ones (whose lock is on their row too).
describe('the in-memory store under a flood of made-up usernames (RC-05)', () => {
  it('RC-05: 1,200 failed logins for made-up names past a 1,000-key bound evict counters, never a lock or a live wait', async () => {
    const t = await startTestTwofold({
      // The in-memory store whatever the project's backend (Redis has its own eviction policy).
      env: { TWOFOLD_REDIS_URL: '', TWOFOLD_MEMORY_STORE_MAX_KEYS: '1000', TWOFOLD_THROTTLE_FREE_FAILURES: '2', TWOFOLD_THROTTLE_LOCK_FAILURES: '6', TWOFOLD_THROTTLE_MAX_DELAY_SECONDS: '3600' },
    });
    try {
      const login = (username: string, password: string) => postJson(t.app, '/v1/login', { username, password });
      const known = await signUp(t);
      const lockedUnknown = uniqueUsername('ghost');
      for (const username of [known.username, lockedUnknown]) {
        for (let i = 0; i < 6; i += 1) {
          await login(username, 'definitely not it');
          t.clock.advanceSeconds(3600); // past each wait
        }
      }
      const waiting = uniqueUsername('waiting');
      for (let i = 0; i < 3; i += 1) await login(waiting, 'definitely not it');
      expectProblem(await login(waiting, 'definitely not it'), 429, 'too_many_attempts');

      for (let batch = 0; batch < 60; batch += 1) {
        const statuses = await Promise.all(Array.from({ length: 20 }, () => login(uniqueUsername('made-up'), 'a guessed password').then((response) => response.statusCode)));
        expect(statuses.every((status) => status === 401)).toBe(true);
      }
      const stats = (t.twofold.kv as MemoryStore).stats();
      expect(stats.evicted).toBeGreaterThan(0);
      expect(stats.keys).toBeLessThanOrEqual(1_000);

      const lockedAnswer = expectProblem(await login(lockedUnknown, 'x'.repeat(12)), 429, 'too_many_attempts');
      expect(lockedAnswer['locked']).toBe(true);
      expect((await login(lockedUnknown, 'x'.repeat(12))).body).toBe((await login(known.username, known.password)).body);
      const waitAnswer = await login(waiting, 'definitely not it');
      expectProblem(waitAnswer, 429, 'too_many_attempts');
      expect(Number(waitAnswer.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });
});

describe('per-IP throttle and trusted proxies (LG-05)', () => {
  it('failures from one address across many accounts hold that address back; another address is not affected', async () => {
    const t = await startTestTwofold({ env: { TWOFOLD_THROTTLE_IP_FAILURES: '5' } });
    try {
      const victim = await signUp(t);
      const fromAttacker = (username: string, password: string, headers: Record<string, string> = {}) =>
        t.app.inject({ method: 'POST', url: '/v1/login', remoteAddress: '203.0.113.7', headers: { 'content-type': 'application/json', ...headers }, payload: { username, password } });
      for (let i = 0; i < 5; i += 1) expect((await fromAttacker(uniqueUsername('spray'), 'a guessed password')).statusCode).toBe(401);
      const held = await fromAttacker(victim.username, victim.password);
      expectProblem(held, 429, 'too_many_attempts');
      expect(Number(held.headers['retry-after'])).toBeGreaterThan(0);
      // Claiming another address in X-Forwarded-For changes nothing: no proxy is trusted.
      expect((await fromAttacker(victim.username, victim.password, { 'x-forwarded-for': '198.51.100.1' })).statusCode).toBe(429);
      // The victim, from their own address, signs in.
      const own = await t.app.inject({ method: 'POST', url: '/v1/login', remoteAddress: '192.0.2.44', headers: { 'content-type': 'application/json' }, payload: { username: victim.username, password: victim.password } });
      expect(own.statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('LG-01/LG-05: probing taken usernames through registration spends the same per-IP budget', async () => {
    const t = await startTestTwofold({ env: { TWOFOLD_THROTTLE_IP_FAILURES: '3' } });
    try {
      const existing = await signUp(t);
      const registerFrom = (remoteAddress: string, username: string) =>
        t.app.inject({ method: 'POST', url: '/v1/register', remoteAddress, headers: { 'content-type': 'application/json' }, payload: { username, password: 'a long enough passphrase here' } });
      for (let i = 0; i < 3; i += 1) expectProblem(await registerFrom('203.0.113.9', existing.username), 409, 'username_taken');
      // The budget is spent: further probes, and even a fresh name, wait — before any hashing.
      expectProblem(await registerFrom('203.0.113.9', existing.username), 429, 'too_many_attempts');
      expectProblem(await registerFrom('203.0.113.9', uniqueUsername('fresh')), 429, 'too_many_attempts');
      // Logins from that address are held back by the same count; other addresses are not.
      const held = await t.app.inject({ method: 'POST', url: '/v1/login', remoteAddress: '203.0.113.9', headers: { 'content-type': 'application/json' }, payload: { username: existing.username, password: existing.password } });
      expectProblem(held, 429, 'too_many_attempts');
      expect((await registerFrom('192.0.2.80', uniqueUsername('fresh'))).statusCode).toBe(201);
    } finally {
      await t.close();
    }
  });

  it('behind a trusted proxy, X-Forwarded-For names the client: each client has its own count', async () => {
    const t = await startTestTwofold({ env: { TWOFOLD_THROTTLE_IP_FAILURES: '3', TWOFOLD_TRUSTED_PROXIES: '10.0.0.0/8' } });
    try {
      const user = await signUp(t);
      const viaProxy = (client: string, password: string) =>
        t.app.inject({ method: 'POST', url: '/v1/login', remoteAddress: '10.1.2.3', headers: { 'content-type': 'application/json', 'x-forwarded-for': client }, payload: { username: uniqueUsername('p'), password } });
      for (let i = 0; i < 3; i += 1) await viaProxy('198.51.100.10', 'a guessed password');
      expectProblem(await viaProxy('198.51.100.10', 'a guessed password'), 429, 'too_many_attempts');
      const other = await t.app.inject({ method: 'POST', url: '/v1/login', remoteAddress: '10.1.2.3', headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.11' }, payload: { username: user.username, password: user.password } });
      expect(other.statusCode).toBe(200);
      // The audit trail records the client's address, not the proxy's.
      expect(t.events.some((event) => event.type === 'login.password_failed' && event.ip === '198.51.100.10')).toBe(true);
    } finally {
      await t.close();
    }
  });
});
