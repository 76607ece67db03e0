// A DPoP proof is single use: its jti, per key, is claimed once for as long as its iat is still
// accepted. Across instances the claim goes through the shared key-value store (Redis); a
// twofold/verify user without one gets the in-process store below.

export interface DpopReplayStore {
  /** True when this call is the first to claim `key` within ttlMs. */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
}

/** The one step of Twofold's KeyValueStore this needs (kept structural: src/core does not import the store). */
export interface SetIfAbsentStore {
  setIfAbsent(key: string, value: string, ttlMs: number, options?: { keepUntilExpiry?: boolean }): Promise<boolean>;
}

export function createKeyValueDpopReplayStore(store: SetIfAbsentStore): DpopReplayStore {
  return {
    // keepUntilExpiry: a marker evicted early by the memory store's bound would let the proof be
    // replayed; markers live only as long as the iat window, so they cannot pile up for long.
    claimOnce: (key, ttlMs) => store.setIfAbsent(`dpop-jti:${key}`, '1', ttlMs, { keepUntilExpiry: true }),
  };
}

export interface MemoryDpopReplayStoreOptions {
  now: () => number;
  /**
   * Claims held at most (default 500,000: a claim lives about 65 s, so ≈7,000 proofs/s per
   * process). When full, a new claim is refused — a valid request fails, a replay never passes.
   */
  maxEntries?: number;
}

export function createMemoryDpopReplayStore(options: MemoryDpopReplayStoreOptions): DpopReplayStore {
  const maxEntries = options.maxEntries ?? 500_000;
  const expiresAt = new Map<string, number>();
  // Claims are inserted in time order and (almost) all live equally long, so the expired ones sit
  // at the front of the Map's insertion order: dropping stops at the first live one, a constant
  // amount of work per claim instead of a scan of every claim when the store is full. A claim
  // whose iat made it shorter-lived than its elders just waits for them (held longer, never less).
  const dropExpired = (now: number): void => {
    for (const [key, until] of expiresAt) {
      if (until > now) return;
      expiresAt.delete(key);
    }
  };
  return {
    claimOnce(key, ttlMs) {
      const now = options.now();
      dropExpired(now);
      const held = expiresAt.get(key);
      if (held !== undefined && held > now) return Promise.resolve(false);
      if (held === undefined && expiresAt.size >= maxEntries) return Promise.resolve(false);
      // Deleted first so a reclaimed key moves to the back of the insertion order.
      expiresAt.delete(key);
      expiresAt.set(key, now + ttlMs);
      return Promise.resolve(true);
    },
  };
}
