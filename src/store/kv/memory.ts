// The single-instance KeyValueStore: a Map with expiry read from the injected clock (so tests
// that move time move expiry too) and pub/sub delivered to this process's own subscribers.
import { EventEmitter } from 'node:events';
import type { KeyValueStore } from './key-value-store.js';

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
