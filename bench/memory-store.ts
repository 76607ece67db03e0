// The in-memory store's cost per operation against the number of keys it holds (RC-05): the same
// operation — the store's share of a failed login for a made-up username, one consumeGuess that
// reads three keys and writes a new 30-day failure counter — at 1 k, 10 k, 100 k and 1 M live keys.
// Two states:
// - full: at TWOFOLD_MEMORY_STORE_MAX_KEYS, so every new counter evicts the least recently used;
// - expiring: unbounded, with counters that live as long as it takes to add n of them, so every
//   new counter finds one that has just expired.
// And the floor no store can go under: the same three lookups, one insert and one delete on a bare
// Map of as many keys (a lookup in a table far larger than the CPU caches is a few cache misses).
//
// The cost is CPU time (process.cpuUsage), not wall time: the loop is synchronous work on one
// thread, and on this shared machine wall time also counts whatever ran in between. Each size is
// built alone (no other store alive to share its garbage collections), measured after it reached
// its steady state, rebuilt for every round, and the median kept.
import { createMemoryStore, type MemoryStore } from '../src/store/kv/memory.js';
import type { GuessKeys, GuessPolicy } from '../src/store/kv/key-value-store.js';
import { median } from './statistics.js';

export type MemoryStoreState = 'full' | 'expiring' | 'bare-map';

export interface MemoryStoreScaling {
  /** Nanoseconds an operation, by state and number of live keys. */
  nsPerOperation: Record<MemoryStoreState, Map<number, number>>;
}

const day = 24 * 60 * 60 * 1000;

function madeUpAccount(index: number): GuessKeys {
  const id = `made-up-${index}`;
  return { failures: `throttle:account:${id}:failures`, waitUntil: `throttle:account:${id}:until`, locked: `throttle:account:${id}:locked` };
}

function cpuNanosecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) * 1000;
}

async function measureStore(state: 'full' | 'expiring', liveKeys: number, operations: number): Promise<number> {
  let now = Date.UTC(2026, 0, 1);
  // One failure per made-up name never starts a wait, so each operation adds exactly one key.
  const policy: GuessPolicy = { freeFailures: 10, maxDelayMs: 900_000, lockFailures: 100, failuresLifetimeMs: state === 'full' ? 30 * day : liveKeys, lockLifetimeMs: 30 * day };
  const store: MemoryStore = createMemoryStore(() => now, { maxKeys: state === 'full' ? liveKeys : 2 * liveKeys + 10 });
  let index = 0;
  const step = async () => {
    await store.consumeGuess(madeUpAccount(index), now, policy);
    index += 1;
    now += 1;
  };
  // Up to the steady state: full, or as many live as expire per step.
  for (let fill = 0; fill < liveKeys; fill += 1) await step();
  const started = process.cpuUsage();
  for (let operation = 0; operation < operations; operation += 1) await step();
  const nanoseconds = cpuNanosecondsSince(started) / operations;
  const stats = store.stats();
  if (Math.abs(stats.keys - liveKeys) > 2) throw new Error(`the ${state} store held ${stats.keys} keys, not ${liveKeys}`);
  await store.close();
  return nanoseconds;
}

async function measureBareMap(liveKeys: number, operations: number): Promise<number> {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  let index = 0;
  const step = async () => {
    const keys = madeUpAccount(index);
    entries.get(keys.locked);
    entries.get(keys.waitUntil);
    entries.get(keys.failures);
    if (entries.size >= liveKeys) entries.delete(madeUpAccount(index - liveKeys).failures);
    entries.set(keys.failures, { value: '1', expiresAt: index });
    index += 1;
  };
  for (let fill = 0; fill < liveKeys; fill += 1) await step();
  const started = process.cpuUsage();
  for (let operation = 0; operation < operations; operation += 1) await step();
  return cpuNanosecondsSince(started) / operations;
}

export async function measureMemoryStoreScaling(options: { sizes: Record<MemoryStoreState, number[]>; operations: number; rounds: number }): Promise<MemoryStoreScaling> {
  const samples: Record<MemoryStoreState, Map<number, number[]>> = { full: new Map(), expiring: new Map(), 'bare-map': new Map() };
  for (let round = 0; round < options.rounds; round += 1) {
    for (const state of ['full', 'expiring', 'bare-map'] as const) {
      for (const size of options.sizes[state]) {
        const perSize = samples[state].get(size) ?? [];
        perSize.push(state === 'bare-map' ? await measureBareMap(size, options.operations) : await measureStore(state, size, options.operations));
        samples[state].set(size, perSize);
      }
    }
  }
  const medians = (state: MemoryStoreState) => new Map([...samples[state]].map(([size, values]) => [size, median(values)]));
  return { nsPerOperation: { full: medians('full'), expiring: medians('expiring'), 'bare-map': medians('bare-map') } };
}
