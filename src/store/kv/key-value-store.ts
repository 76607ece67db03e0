// Shared short-lived state: throttling counters, the revoked-session denylist, pending challenge
// state, and a pub/sub channel between instances. Redis when several instances run; in-process
// memory for a single one, with the same behaviour.

export interface KeyValueStore {
  readonly kind: 'memory' | 'redis';
  /** Adds one and returns the new count; a new counter expires ttlMs after its first increment. */
  increment(key: string, ttlMs: number): Promise<number>;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Stores only if the key is absent; true when this call stored it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Claims a deadline in one step: stores `until` (a time in ms, expiring at it) unless the key
   * already holds a deadline later than `now`. Undefined when this call claimed it; else the
   * deadline that holds. Compares against the caller's clock, not only the store's expiry, so the
   * same rule holds whichever instance (or test clock) asks.
   */
  claimUntil(key: string, now: number, until: number): Promise<number | undefined>;
  /** Deletes and returns the value in one step (single use). */
  take(key: string): Promise<string | undefined>;
  delete(...keys: string[]): Promise<void>;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Redis could not be reached or did not answer in time. Answered as 503 server_busy. */
export class KeyValueStoreUnavailableError extends Error {
  override readonly name = 'KeyValueStoreUnavailableError';
}
