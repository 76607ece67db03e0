// The single-instance KeyValueStore: a Map with expiry read from the injected clock (so tests
// that move time move expiry too) and pub/sub delivered to this process's own subscribers. Every
// operation runs to completion without an await, so each is atomic like its Redis script.
import { EventEmitter } from 'node:events';
import { guessDelayMs, type KeyValueStore } from './key-value-store.js';

interface Entry {
  value: string;
  expiresAt: number;
}

/** Expired entries are dropped on access and swept when the map grows past this. */
const sweepThreshold = 10_000;

export function createMemoryStore(now: () => number): KeyValueStore {
  const entries = new Map<string, Entry>();
  const channels = new EventEmitter();
  channels.setMaxListeners(0);

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const put = (key: string, value: string, ttlMs: number): void => {
    if (entries.size >= sweepThreshold) for (const candidate of [...entries.keys()]) live(candidate);
    entries.set(key, { value, expiresAt: now() + ttlMs });
  };
  /** A budget's window as "count:windowEndsAt"; an ended window (by the caller's clock) is none. */
  const budgetWindow = (key: string, at: number): { count: number; windowEndsAt: number } | undefined => {
    const [count, windowEndsAt] = (live(key)?.value ?? '').split(':').map(Number);
    return count === undefined || windowEndsAt === undefined || !(windowEndsAt > at) ? undefined : { count, windowEndsAt };
  };

  return {
    kind: 'memory',
    async increment(key, ttlMs) {
      const entry = live(key);
      if (entry === undefined) {
        put(key, '1', ttlMs);
        return 1;
      }
      entry.value = String(Number(entry.value) + 1);
      return Number(entry.value);
    },
    async get(key) {
      return live(key)?.value;
    },
    async set(key, value, ttlMs) {
      put(key, value, ttlMs);
    },
    async setIfAbsent(key, value, ttlMs) {
      if (live(key) !== undefined) return false;
      put(key, value, ttlMs);
      return true;
    },
    async claimUntil(key, at, until) {
      const held = Number(live(key)?.value ?? Number.NaN);
      if (held > at) return held;
      put(key, String(until), Math.max(1, until - at));
      return undefined;
    },
    async consumeBudget(key, at, { limit, windowMs }) {
      const window = budgetWindow(key, at) ?? { count: 0, windowEndsAt: at + windowMs };
      if (window.count >= limit) return { consumed: false, ...window };
      const count = window.count + 1;
      put(key, `${count}:${window.windowEndsAt}`, Math.max(1, window.windowEndsAt - at));
      return { consumed: true, count, windowEndsAt: window.windowEndsAt };
    },
    async refundBudget(key, at, windowEndsAt) {
      const window = budgetWindow(key, at);
      if (window === undefined || window.windowEndsAt !== windowEndsAt || window.count <= 0) return;
      put(key, `${window.count - 1}:${windowEndsAt}`, Math.max(1, windowEndsAt - at));
    },
    async consumeGuess(keys, at, policy) {
      if (live(keys.locked) !== undefined) return { consumed: false, locked: true };
      const previousWaitUntil = Number(live(keys.waitUntil)?.value ?? 0);
      if (previousWaitUntil > at) return { consumed: false, locked: false, retryAfterMs: previousWaitUntil - at };
      const failures = live(keys.failures);
      const count = failures === undefined ? 1 : Number(failures.value) + 1;
      if (failures === undefined) put(keys.failures, '1', policy.failuresLifetimeMs);
      else failures.value = String(count);
      let locked = false;
      let waitUntil = 0;
      if (count >= policy.lockFailures) {
        locked = live(keys.locked) === undefined;
        if (locked) put(keys.locked, String(at), policy.lockLifetimeMs);
      } else {
        const delayMs = guessDelayMs(count, policy);
        if (delayMs > 0) {
          waitUntil = at + delayMs;
          // It ends by the caller's clock (its value); the entry lives as long as the count.
          put(keys.waitUntil, String(waitUntil), policy.failuresLifetimeMs);
        }
      }
      return { consumed: true, count, waitUntil, previousWaitUntil, locked };
    },
    async refundGuess(keys, at, taken, policy) {
      const failures = live(keys.failures);
      if (failures !== undefined && Number(failures.value) > 0) failures.value = String(Number(failures.value) - 1);
      // Only the wait this guess started is undone: a later guess may have started another.
      if (taken.waitUntil !== 0 && Number(live(keys.waitUntil)?.value) === taken.waitUntil) {
        if (taken.previousWaitUntil > at) put(keys.waitUntil, String(taken.previousWaitUntil), policy.failuresLifetimeMs);
        else entries.delete(keys.waitUntil);
      }
      if (taken.locked) entries.delete(keys.locked);
    },
    async take(key) {
      const value = live(key)?.value;
      entries.delete(key);
      return value;
    },
    async delete(...keys) {
      for (const key of keys) entries.delete(key);
    },
    async publish(channel, message) {
      channels.emit(channel, message);
    },
    async subscribe(channel, onMessage) {
      channels.on(channel, onMessage);
    },
    async ping() {},
    async close() {
      channels.removeAllListeners();
      entries.clear();
    },
  };
}
