// The single-instance KeyValueStore: a Map with expiry read from the injected clock (so tests
// that move time move expiry too) and pub/sub delivered to this process's own subscribers. Every
// operation runs to completion without an await, so each is atomic like its Redis script.
//
// Its cost must not grow with what an attacker can add (RC-05): a failed login for a
// made-up username adds a counter that lives 30 days. So no operation walks the store:
// - Expiry: a heap ordered by expiry time (core/expiry) finds what has expired in O(log n); each
//   insert drops at most two expired entries, so expired entries leave faster than new ones come
//   and no single request pays for a backlog.
// - Memory: at most `maxKeys` entries. A new key when full takes the place of an expired entry
//   if there is one, else of the least recently used entry (a list beside the Map, relinked in
//   O(1) on every read and write) — never of one written with `keepUntilExpiry` (an account lock,
//   a wait): forgetting those early would hand out guesses. When only those are left the store
//   grows past its bound rather than forget one, and says so through the diagnostics logger (at
//   most once an hour).
import { EventEmitter } from 'node:events';
import { configDefaults } from '../../config/schema.js';
import { ExpiryHeap, notInHeap, type ExpiringItem } from '../../core/expiry/expiry-heap.js';
import { guessDelayMs, type KeyValueStore, type WriteOptions } from './key-value-store.js';

interface Entry extends ExpiringItem {
  key: string;
  value: string;
  keptUntilExpiry: boolean;
  /** Neighbours in the recency list of evictable entries (kept entries are in no list). */
  newer: Entry | undefined;
  older: Entry | undefined;
}

export interface MemoryStoreOptions {
  /** The bound on entries; kept-until-expiry entries may exceed it (see the file comment). */
  maxKeys?: number;
  diagnostics?: { warn(details: object, message: string): void };
}

export interface MemoryStoreStats {
  /** Entries held, expired ones not yet dropped included. */
  keys: number;
  /** Of which written with keepUntilExpiry. */
  keptUntilExpiry: number;
  maxKeys: number;
  /** Entries dropped because their time had passed. */
  expired: number;
  /** Live entries dropped to make room (the least recently used evictable ones). */
  evicted: number;
  /** New keys stored past the bound because every entry left was kept until expiry. */
  storedPastBound: number;
  /** Expiries scheduled on the heap: one per entry held, never a stale one left behind. */
  scheduledExpiries: number;
  /** Heap moves so far: proportional to log n per operation, never to n. */
  expiryHeapMoves: number;
}

export type MemoryStore = KeyValueStore & { stats(): MemoryStoreStats };

/** Expired entries dropped per new key: more than one, so they drain faster than keys arrive. */
const expiredDroppedPerInsert = 2;
/** A store past its bound says so at most this often (a flood of locks must not flood the log). */
const pastBoundWarningIntervalMs = 60 * 60 * 1000;

const untilExpiry: WriteOptions = { keepUntilExpiry: true };

export function createMemoryStore(now: () => number, options: MemoryStoreOptions = {}): MemoryStore {
  const maxKeys = options.maxKeys ?? configDefaults.memoryStoreMaxKeys;
  const entries = new Map<string, Entry>();
  const byExpiry = new ExpiryHeap<Entry>();
  const channels = new EventEmitter();
  channels.setMaxListeners(0);
  const counts = { keptUntilExpiry: 0, expired: 0, evicted: 0, storedPastBound: 0 };
  let newest: Entry | undefined;
  let oldest: Entry | undefined;
  let lastPastBoundWarningAt: number | undefined;

  const unlink = (entry: Entry): void => {
    if (entry.newer === undefined) newest = entry.older;
    else entry.newer.older = entry.older;
    if (entry.older === undefined) oldest = entry.newer;
    else entry.older.newer = entry.newer;
    entry.newer = undefined;
    entry.older = undefined;
  };
  const linkAsNewest = (entry: Entry): void => {
    entry.older = newest;
    if (newest !== undefined) newest.newer = entry;
    newest = entry;
    oldest ??= entry;
  };
  const touch = (entry: Entry): void => {
    if (entry.keptUntilExpiry || entry === newest) return;
    unlink(entry);
    linkAsNewest(entry);
  };
  const remove = (entry: Entry): void => {
    // Held entries are exactly those on the heap: no second Map lookup to ask whether it is held.
    if (entry.heapIndex === notInHeap) return;
    entries.delete(entry.key);
    byExpiry.remove(entry);
    if (entry.keptUntilExpiry) counts.keptUntilExpiry -= 1;
    else unlink(entry);
  };
  const removeKey = (key: string): void => {
    const entry = entries.get(key);
    if (entry !== undefined) remove(entry);
  };
  const setKeptUntilExpiry = (entry: Entry, kept: boolean): void => {
    if (entry.keptUntilExpiry === kept) return;
    entry.keptUntilExpiry = kept;
    if (kept) {
      unlink(entry);
      counts.keptUntilExpiry += 1;
    } else {
      linkAsNewest(entry);
      counts.keptUntilExpiry -= 1;
    }
  };

  /** Room for one more key: an expired entry goes first, then the least recently used evictable one. */
  const makeRoom = (at: number): void => {
    for (let dropped = 0; dropped < expiredDroppedPerInsert; dropped += 1) {
      const first = byExpiry.peek();
      if (first === undefined || first.expiresAt > at) break;
      remove(first);
      counts.expired += 1;
    }
    if (entries.size < maxKeys) return;
    if (oldest !== undefined) {
      remove(oldest);
      counts.evicted += 1;
      return;
    }
    counts.storedPastBound += 1;
    if (lastPastBoundWarningAt === undefined || at - lastPastBoundWarningAt >= pastBoundWarningIntervalMs) {
      lastPastBoundWarningAt = at;
      options.diagnostics?.warn(
        { keys: entries.size, maxKeys, keptUntilExpiry: counts.keptUntilExpiry },
        'the in-memory store is full of account locks and waits, which are never forgotten before they expire: it grows past TWOFOLD_MEMORY_STORE_MAX_KEYS',
      );
    }
  };

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now()) {
      remove(entry);
      counts.expired += 1;
      return undefined;
    }
    touch(entry);
    return entry;
  };
  const put = (key: string, value: string, ttlMs: number, write: WriteOptions = {}): void => {
    const at = now();
    const kept = write.keepUntilExpiry === true;
    const existing = entries.get(key);
    if (existing !== undefined) {
      existing.value = value;
      byExpiry.update(existing, at + ttlMs);
      setKeptUntilExpiry(existing, kept);
      touch(existing);
      return;
    }
    makeRoom(at);
    const entry: Entry = { key, value, expiresAt: at + ttlMs, heapIndex: notInHeap, keptUntilExpiry: kept, newer: undefined, older: undefined };
    entries.set(key, entry);
    byExpiry.push(entry);
    if (kept) counts.keptUntilExpiry += 1;
    else linkAsNewest(entry);
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
    async set(key, value, ttlMs, write) {
      put(key, value, ttlMs, write);
    },
    async setIfAbsent(key, value, ttlMs, write) {
      if (live(key) !== undefined) return false;
      put(key, value, ttlMs, write);
      return true;
    },
    async claimUntil(key, at, until) {
      const held = Number(live(key)?.value ?? Number.NaN);
      if (held > at) return held;
      put(key, String(until), Math.max(1, until - at), untilExpiry);
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
        if (locked) put(keys.locked, String(at), policy.lockLifetimeMs, untilExpiry);
      } else {
        const delayMs = guessDelayMs(count, policy);
        if (delayMs > 0) {
          waitUntil = at + delayMs;
          put(keys.waitUntil, String(waitUntil), delayMs, untilExpiry);
        }
      }
      return { consumed: true, count, waitUntil, previousWaitUntil, locked };
    },
    async refundGuess(keys, at, taken) {
      const failures = live(keys.failures);
      if (failures !== undefined && Number(failures.value) > 0) failures.value = String(Number(failures.value) - 1);
      // Only the wait this guess started is undone: a later guess may have started another.
      if (taken.waitUntil !== 0 && Number(live(keys.waitUntil)?.value) === taken.waitUntil) {
        if (taken.previousWaitUntil > at) put(keys.waitUntil, String(taken.previousWaitUntil), taken.previousWaitUntil - at, untilExpiry);
        else removeKey(keys.waitUntil);
      }
      if (taken.locked) removeKey(keys.locked);
    },
    async take(key) {
      const value = live(key)?.value;
      removeKey(key);
      return value;
    },
    async delete(...keys) {
      for (const key of keys) removeKey(key);
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
      byExpiry.clear();
      newest = undefined;
      oldest = undefined;
      counts.keptUntilExpiry = 0;
    },
    stats() {
      return { keys: entries.size, maxKeys, ...counts, scheduledExpiries: byExpiry.size, expiryHeapMoves: byExpiry.moves };
    },
  };
}
