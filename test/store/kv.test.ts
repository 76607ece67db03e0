// The KeyValueStore contract, on the store this project runs with: in-process memory in the
// "sqlite" project, Redis (a fresh key prefix) in the "postgres" one. The atomic steps are what
// throttling relies on across instances, so they are raced here, not just called.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyValueStore } from '../../src/store/kv/key-value-store.js';
import { createMemoryStore } from '../../src/store/kv/memory.js';
import { createRedisStore } from '../../src/store/kv/redis.js';
import { createRedisPrefix, testBackend, testRedisUrl } from '../helpers/backend.js';

describe(`KeyValueStore (${testBackend === 'postgres' ? 'redis' : 'memory'})`, () => {
  let kv: KeyValueStore;
  let dispose: () => Promise<void> = async () => undefined;
  const now = Date.now();
  let counter = 0;
  const key = (name: string) => `kv-test:${name}:${(counter += 1)}`;

  beforeAll(async () => {
    if (testBackend === 'postgres') {
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
});
