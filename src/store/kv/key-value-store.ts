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
