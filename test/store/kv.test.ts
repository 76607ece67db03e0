// The KeyValueStore contract, on the store this project runs with: in-process memory in the
// "sqlite" project, Redis (a fresh key prefix) in the "postgres" one. The atomic steps are what
// throttling relies on across instances, so they are raced here, not just called.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyValueStore } from '../../src/store/kv/key-value-store.js';
import { createMemoryStore } from '../../src/store/kv/memory.js';
import { createRedisStore } from '../../src/store/kv/redis.js';
import { createRedisPrefix, testRedisUrl, testSharedState } from '../helpers/backend.js';

describe(`KeyValueStore (${testSharedState})`, () => {
  let kv: KeyValueStore;
  let dispose: () => Promise<void> = async () => undefined;
  const now = Date.now();
  let counter = 0;
  const key = (name: string) => `kv-test:${name}:${(counter += 1)}`;

  beforeAll(async () => {
    if (testSharedState === 'redis') {
      const redis = createRedisPrefix();
      kv = await createRedisStore({ url: testRedisUrl!, keyPrefix: redis.prefix, connectTimeoutMs: 2000, commandTimeoutMs: 2000 });
      dispose = async () => (await kv.close(), await redis.dispose());
    } else {
      kv = createMemoryStore(() => Date.now());
    }
  });
  afterAll(async () => dispose());

  it('claimUntil(): of 50 concurrent claims of a free key exactly one wins; the others see its deadline', async () => {
    const name = key('claim');
    const results = await Promise.all(Array.from({ length: 50 }, () => kv.claimUntil(name, now, now + 30_000)));
    expect(results.filter((held) => held === undefined)).toHaveLength(1);
    expect(results.filter((held) => held === now + 30_000)).toHaveLength(49);
  });

  it('claimUntil(): a deadline in the past (by the caller\'s clock) is claimed again, exactly once under a race', async () => {
    const name = key('reclaim');
    expect(await kv.claimUntil(name, now, now + 60_000)).toBeUndefined();
    // The key still exists in the store, but the caller's clock has moved past its deadline.
    const later = now + 61_000;
    const results = await Promise.all(Array.from({ length: 50 }, () => kv.claimUntil(name, later, later + 30_000)));
    expect(results.filter((held) => held === undefined)).toHaveLength(1);
    expect(await kv.claimUntil(name, later + 1, later + 2)).toBe(later + 30_000);
  });

  it('claimUntil(): the claimed key expires with its deadline', async () => {
    const name = key('expiry');
    const start = Date.now();
    expect(await kv.claimUntil(name, start, start + 50)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await kv.get(name)).toBeUndefined();
  });

  it('increment(): 100 concurrent increments all count', async () => {
    const name = key('count');
    const counts = await Promise.all(Array.from({ length: 100 }, () => kv.increment(name, 60_000)));
    expect(new Set(counts).size).toBe(100);
    expect(Math.max(...counts)).toBe(100);
  });

  it('setIfAbsent(): of 50 concurrent calls exactly one stores', async () => {
    const name = key('once');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => kv.setIfAbsent(name, String(i), 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('take(): of 50 concurrent takes exactly one gets the value', async () => {
    const name = key('take');
    await kv.set(name, 'single use', 60_000);
    const taken = await Promise.all(Array.from({ length: 50 }, () => kv.take(name)));
    expect(taken.filter((value) => value === 'single use')).toHaveLength(1);
    expect(await kv.get(name)).toBeUndefined();
  });

  const policy = { freeFailures: 10, maxDelayMs: 900_000, lockFailures: 100, failuresLifetimeMs: 86_400_000, lockLifetimeMs: 86_400_000 };
  const guessKeys = () => {
    const base = key('guess');
    return { failures: `${base}:failures`, waitUntil: `${base}:until`, locked: `${base}:locked` };
  };

  it('RC-01: consumeBudget(): of 1,000 concurrent takes of a budget of 10, exactly 10 are taken', async () => {
    const name = key('budget');
    const results = await Promise.all(Array.from({ length: 1000 }, () => kv.consumeBudget(name, now, { limit: 10, windowMs: 60_000 })));
    expect(results.filter((result) => result.consumed)).toHaveLength(10);
    expect(new Set(results.filter((result) => result.consumed).map((result) => result.count))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expect(new Set(results.map((result) => result.windowEndsAt))).toEqual(new Set([now + 60_000]));
  });

  it('consumeBudget(): a window ends by the caller\'s clock, and the next one starts at its first take', async () => {
    const name = key('budget-window');
    for (let i = 0; i < 3; i += 1) expect((await kv.consumeBudget(name, now, { limit: 3, windowMs: 60_000 })).consumed).toBe(true);
    expect(await kv.consumeBudget(name, now + 59_999, { limit: 3, windowMs: 60_000 })).toEqual({ consumed: false, count: 3, windowEndsAt: now + 60_000 });
    expect(await kv.consumeBudget(name, now + 60_000, { limit: 3, windowMs: 60_000 })).toEqual({ consumed: true, count: 1, windowEndsAt: now + 120_000 });
  });

  it('refundBudget(): gives a unit back to its own window only', async () => {
    const name = key('budget-refund');
    const first = await kv.consumeBudget(name, now, { limit: 1, windowMs: 60_000 });
    expect((await kv.consumeBudget(name, now, { limit: 1, windowMs: 60_000 })).consumed).toBe(false);
    await kv.refundBudget(name, now, first.windowEndsAt);
    expect((await kv.consumeBudget(name, now, { limit: 1, windowMs: 60_000 })).consumed).toBe(true);
    // A refund of an earlier window's unit adds nothing to the window that followed it.
    const later = await kv.consumeBudget(name, now + 60_000, { limit: 1, windowMs: 60_000 });
    expect(later.consumed).toBe(true);
    await kv.refundBudget(name, now + 60_000, first.windowEndsAt);
    expect((await kv.consumeBudget(name, now + 60_000, { limit: 1, windowMs: 60_000 })).consumed).toBe(false);
  });

  it('RC-01: consumeGuess(): of 1,000 concurrent guesses, the free ones and the one that starts the wait are taken; the rest wait', async () => {
    const keys = guessKeys();
    const results = await Promise.all(Array.from({ length: 1000 }, () => kv.consumeGuess(keys, now, policy)));
    const taken = results.filter((result) => result.consumed);
    expect(taken).toHaveLength(policy.freeFailures + 1);
    expect(results.filter((result) => !result.consumed && !result.locked && result.retryAfterMs === 1000)).toHaveLength(1000 - policy.freeFailures - 1);
  });

  it('consumeGuess(): the wait doubles with each guess after it, and the guess that reaches the lock count locks', async () => {
    const keys = guessKeys();
    const small = { ...policy, freeFailures: 2, lockFailures: 6 };
    let at = now;
    const waits: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const result = await kv.consumeGuess(keys, at, small);
      if (!result.consumed) throw new Error('expected a taken guess');
      waits.push(result.waitUntil === 0 ? 0 : result.waitUntil - at);
      if (result.waitUntil !== 0) {
        expect(await kv.consumeGuess(keys, result.waitUntil - 1, small)).toEqual({ consumed: false, locked: false, retryAfterMs: 1 });
        at = result.waitUntil;
      }
    }
    expect(waits).toEqual([0, 0, 1000, 2000, 4000]);
    const sixth = await kv.consumeGuess(keys, at, small);
    expect(sixth).toMatchObject({ consumed: true, count: 6, locked: true, waitUntil: 0 });
    expect(await kv.consumeGuess(keys, at + 86_000_000, small)).toEqual({ consumed: false, locked: true });
  });

  it('refundGuess(): a right guess undoes its count, the wait it started and the lock it took', async () => {
    const keys = guessKeys();
    const small = { ...policy, freeFailures: 1, lockFailures: 3 };
    await kv.consumeGuess(keys, now, small);
    const second = await kv.consumeGuess(keys, now, small);
    expect(second).toMatchObject({ consumed: true, count: 2, waitUntil: now + 1000 });
    if (!second.consumed) throw new Error('expected a taken guess');
    await kv.refundGuess(keys, now, second, small);
    // No wait left: the next guess is taken at once, as the second one again.
    const again = await kv.consumeGuess(keys, now, small);
    expect(again).toMatchObject({ consumed: true, count: 2 });
    if (!again.consumed) throw new Error('expected a taken guess');
    const third = await kv.consumeGuess(keys, again.waitUntil, small);
    expect(third).toMatchObject({ consumed: true, count: 3, locked: true });
    if (!third.consumed) throw new Error('expected a taken guess');
    await kv.refundGuess(keys, again.waitUntil, third, small);
    expect((await kv.consumeGuess(keys, again.waitUntil, small)).consumed).toBe(true);
  });

  it('consumeGuess(): a wait ends by the caller\'s clock, not when the store\'s own clock says so', async () => {
    const keys = guessKeys();
    const small = { ...policy, freeFailures: 1, lockFailures: 10 };
    await kv.consumeGuess(keys, now, small);
    expect(await kv.consumeGuess(keys, now, small)).toMatchObject({ consumed: true, waitUntil: now + 1000 });
    // Redis expires keys by its own clock; the caller's clock here stands still (memory runs on it).
    if (testSharedState === 'redis') await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await kv.consumeGuess(keys, now + 999, small)).toEqual({ consumed: false, locked: false, retryAfterMs: 1 });
    expect(await kv.consumeGuess(keys, now + 1000, small)).toMatchObject({ consumed: true, count: 3 });
  });

  it('refundGuess(): leaves alone a wait that a later guess started', async () => {
    const keys = guessKeys();
    const small = { ...policy, freeFailures: 1, lockFailures: 10 };
    await kv.consumeGuess(keys, now, small);
    const second = await kv.consumeGuess(keys, now, small);
    if (!second.consumed) throw new Error('expected a taken guess');
    const third = await kv.consumeGuess(keys, second.waitUntil, small);
    if (!third.consumed) throw new Error('expected a taken guess');
    await kv.refundGuess(keys, second.waitUntil, second, small);
    expect(await kv.consumeGuess(keys, second.waitUntil, small)).toEqual({ consumed: false, locked: false, retryAfterMs: third.waitUntil - second.waitUntil });
  });
});
