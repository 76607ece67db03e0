// The in-memory store's own promises beyond the KeyValueStore contract (test/store/kv.test.ts):
// expiry by the injected clock at no cost that grows with the store, a bound on its keys, and the
// keys it never forgets early (RC-05). Sizes are asserted through the store's stats — counts of
// keys, evictions and heap moves — never through time.
import { describe, expect, it } from 'vitest';
import type { GuessKeys, GuessPolicy } from './key-value-store.js';
import { createMemoryStore } from './memory.js';

function testClock(start = 1_000_000) {
  let current = start;
  return { now: () => current, advance: (ms: number) => void (current += ms) };
}

const guessKeys = (account: string): GuessKeys => ({
  failures: `throttle:account:${account}:failures`,
  waitUntil: `throttle:account:${account}:until`,
  locked: `throttle:account:${account}:locked`,
});
const day = 24 * 60 * 60 * 1000;
const policy: GuessPolicy = { freeFailures: 1, maxDelayMs: 60_000, lockFailures: 3, failuresLifetimeMs: 30 * day, lockLifetimeMs: day };

describe('memory KeyValueStore', () => {
  it('RC-05: a key expires when the injected clock reaches its expiry (expiresAt == now), not a millisecond before', async () => {
    const clock = testClock();
    const kv = createMemoryStore(clock.now);
    await kv.set('read', 'value', 1_000);
    await kv.set('swept', 'value', 1_000);
    clock.advance(999);
    expect(await kv.get('read')).toBe('value');
    clock.advance(1);
    expect(await kv.get('read')).toBeUndefined();
    // Not read again: the next insert takes it off the expiry heap at the same boundary.
    await kv.set('another', 'value', 1_000);
    expect(kv.stats()).toMatchObject({ keys: 1, expired: 2, scheduledExpiries: 1 });
  });

  it('RC-05: 1,000,000 keys inserted then expired — no insert walks the store; each costs O(log n) heap moves', async () => {
    const clock = testClock();
    const kv = createMemoryStore(clock.now, { maxKeys: 2_000_000 });
    const count = 1_000_000;
    // The flood that once made every insert walk the store: a 30-day failure counter per made-up username, one per millisecond.
    for (let index = 0; index < count; index += 1) {
      await kv.increment(`throttle:account:made-up-${index}:failures`, 30 * day);
      clock.advance(1);
    }
    expect(kv.stats()).toMatchObject({ keys: count, scheduledExpiries: count, expired: 0 });
    clock.advance(30 * day);
    // Each new key drops two expired ones: half as many inserts empty the store of the old keys.
    for (let index = 0; index < count / 2; index += 1) await kv.increment(`throttle:account:later-${index}:failures`, 30 * day);
    const stats = kv.stats();
    expect(stats).toMatchObject({ keys: count / 2, scheduledExpiries: count / 2, expired: count, evicted: 0 });
    // A sweep of the whole map per insert (the code as it was) would be ~10^12 visits; a heap
    // moves at most log2(n) ≈ 20 items per push or removal.
    expect(stats.expiryHeapMoves).toBeLessThanOrEqual((count + count / 2 + count) * 21);
  }, 120_000);

  it('RC-05: 2 × maxKeys inserts keep it at maxKeys: the least recently used keys go, a key read all along stays', async () => {
    const clock = testClock();
    const kv = createMemoryStore(clock.now, { maxKeys: 1_000 });
    await kv.set('read-all-along', 'kept', 30 * day);
    for (let index = 0; index < 2_000; index += 1) {
      await kv.increment(`made-up-${index}`, 30 * day);
      expect(await kv.get('read-all-along')).toBe('kept');
      expect(kv.stats().keys).toBeLessThanOrEqual(1_000);
    }
    expect(kv.stats()).toMatchObject({ keys: 1_000, evicted: 1_001, storedPastBound: 0 });
    expect(await kv.get('made-up-0')).toBeUndefined();
    expect(await kv.get('made-up-1000')).toBeUndefined();
    expect(await kv.get('made-up-1999')).toBe('1');
  });

  it('RC-05: expired keys make room before any live key is evicted', async () => {
    const clock = testClock();
    const kv = createMemoryStore(clock.now, { maxKeys: 1_000 });
    for (let index = 0; index < 500; index += 1) await kv.set(`short-${index}`, 'x', 1_000);
    for (let index = 0; index < 500; index += 1) await kv.set(`long-${index}`, 'x', day);
    clock.advance(1_000);
    for (let index = 0; index < 500; index += 1) await kv.set(`new-${index}`, 'x', day);
    expect(kv.stats()).toMatchObject({ keys: 1_000, expired: 500, evicted: 0 });
    expect(await kv.get('long-0')).toBe('x');
  });

  it('RC-05: an account lock, a live wait and a resend claim survive a flood of made-up usernames until they expire', async () => {
    const clock = testClock();
    const warnings: string[] = [];
    const kv = createMemoryStore(clock.now, { maxKeys: 1_000, diagnostics: { warn: (_details, message) => warnings.push(message) } });
    const at = () => clock.now();
    for (let guess = 0; guess < policy.lockFailures; guess += 1) {
      expect((await kv.consumeGuess(guessKeys('locked'), at(), policy)).consumed).toBe(true);
      clock.advance(60_000); // past each wait
    }
    await kv.consumeGuess(guessKeys('waiting'), at(), policy);
    const waiting = await kv.consumeGuess(guessKeys('waiting'), at(), policy);
    expect(waiting).toMatchObject({ consumed: true, waitUntil: at() + 1_000 });
    expect(await kv.claimUntil('otp:interval:destination', at(), at() + 30_000)).toBeUndefined();

    // Ten times the bound in failure counters for names nobody has, as failed logins leave them.
    for (let index = 0; index < 10_000; index += 1) await kv.consumeGuess(guessKeys(`made-up-${index}`), at(), policy);
    expect(kv.stats().keys).toBeLessThanOrEqual(1_000);
    expect(kv.stats().evicted).toBeGreaterThanOrEqual(9_000);
    expect(await kv.consumeGuess(guessKeys('locked'), at(), policy)).toEqual({ consumed: false, locked: true });
    expect(await kv.consumeGuess(guessKeys('waiting'), at(), policy)).toEqual({ consumed: false, locked: false, retryAfterMs: 1_000 });
    expect(await kv.claimUntil('otp:interval:destination', at(), at() + 30_000)).toBe(at() + 30_000);

    // At their time they go like any key.
    clock.advance(1_000);
    expect((await kv.consumeGuess(guessKeys('waiting'), at(), policy)).consumed).toBe(true);
    clock.advance(day);
    for (let index = 0; index < 2_000; index += 1) await kv.increment(`made-up-again-${index}`, 30 * day);
    expect(kv.stats().keptUntilExpiry).toBe(0);
    expect(await kv.get(guessKeys('locked').locked)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('RC-05: when only locks and waits are left it grows past its bound rather than forget one, and warns at most once an hour', async () => {
    const clock = testClock();
    const warnings: Array<{ details: object; message: string }> = [];
    const kv = createMemoryStore(clock.now, { maxKeys: 1_000, diagnostics: { warn: (details, message) => warnings.push({ details, message }) } });
    for (let index = 0; index < 1_500; index += 1) await kv.setIfAbsent(`throttle:account:${index}:locked`, '1', day, { keepUntilExpiry: true });
    expect(kv.stats()).toMatchObject({ keys: 1_500, keptUntilExpiry: 1_500, evicted: 0, storedPastBound: 500 });
    for (let index = 0; index < 1_500; index += 1) expect(await kv.get(`throttle:account:${index}:locked`)).toBe('1');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/TWOFOLD_MEMORY_STORE_MAX_KEYS/);
    expect(warnings[0]!.details).toEqual({ keys: 1_000, maxKeys: 1_000, keptUntilExpiry: 1_000 });
    // An evictable key written meanwhile is the one that goes next.
    await kv.set('evictable', 'x', day);
    await kv.set('next', 'x', day);
    expect(await kv.get('evictable')).toBeUndefined();
    expect(kv.stats().evicted).toBe(1);
    // Still past the bound an hour later: said again, once.
    clock.advance(60 * 60 * 1000);
    for (let index = 0; index < 10; index += 1) await kv.set(`throttle:account:later-${index}:locked`, '1', day, { keepUntilExpiry: true });
    expect(warnings).toHaveLength(2);
  });

  it("RC-05: a re-set key's earlier expiry does not expire its new value (and a shorter one does)", async () => {
    const clock = testClock();
    const kv = createMemoryStore(clock.now, { maxKeys: 1_000 });
    await kv.set('extended', 'first', 100);
    await kv.set('extended', 'second', 10_000);
    await kv.set('shortened', 'first', 10_000);
    await kv.set('shortened', 'second', 100);
    expect(kv.stats().scheduledExpiries).toBe(2);
    clock.advance(100);
    for (let index = 0; index < 100; index += 1) await kv.set(`other-${index}`, 'x', 10_000);
    expect(kv.stats().expired).toBe(1);
    expect(await kv.get('extended')).toBe('second');
    expect(await kv.get('shortened')).toBeUndefined();
    clock.advance(9_900);
    expect(await kv.get('extended')).toBeUndefined();
  });

  it('RC-05: keys written again and again leave one scheduled expiry each, never a pile of stale ones', async () => {
    const clock = testClock();
    const kv = createMemoryStore(clock.now, { maxKeys: 1_000 });
    for (let round = 0; round < 10_000; round += 1) {
      await kv.consumeBudget(`budget-${round % 10}`, clock.now(), { limit: 1_000_000, windowMs: 60_000 });
      await kv.set(`value-${round % 10}`, String(round), 1_000 + round);
      clock.advance(1);
    }
    await kv.delete('value-0');
    await kv.take('value-1');
    expect(kv.stats()).toMatchObject({ keys: 18, scheduledExpiries: 18 });
  });

  it('RC-05: a key written without keepUntilExpiry after one written with it can be evicted again (the latest write decides)', async () => {
    const clock = testClock();
    const kv = createMemoryStore(clock.now, { maxKeys: 1_000 });
    await kv.set('key', 'kept', day, { keepUntilExpiry: true });
    await kv.set('key', 'plain', day);
    for (let index = 0; index < 1_000; index += 1) await kv.set(`other-${index}`, 'x', day);
    expect(await kv.get('key')).toBeUndefined();
    expect(kv.stats()).toMatchObject({ keys: 1_000, keptUntilExpiry: 0, evicted: 1 });
  });
});
