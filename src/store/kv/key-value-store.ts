// Shared short-lived state: throttling counters and budgets, the revoked-session denylist, pending
// challenge state, and a pub/sub channel between instances. Redis when several instances run;
// in-process memory for a single one, with the same behaviour.
//
// Every limit on guesses or sends is taken here in one atomic step *before* the secret is
// evaluated or the message sent (increment-then-compare): a burst of 1,000 parallel
// requests, on any number of instances, can never get further than the limit. Times are the
// caller's clock (milliseconds), not the store's, so every instance and every test clock agrees.

export interface KeyValueStore {
  readonly kind: 'memory' | 'redis';
  /** Adds one and returns the new count; a new counter expires ttlMs after its first increment. */
  increment(key: string, ttlMs: number): Promise<number>;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number, options?: WriteOptions): Promise<void>;
  /** Stores only if the key is absent; true when this call stored it. */
  setIfAbsent(key: string, value: string, ttlMs: number, options?: WriteOptions): Promise<boolean>;
  /**
   * Claims a deadline in one step: stores `until` (a time in ms, expiring at it) unless the key
   * already holds a deadline later than `now`. Undefined when this call claimed it; else the
   * deadline that holds. Compares against the caller's clock, not only the store's expiry, so the
   * same rule holds whichever instance (or test clock) asks. A claim is a wait: kept until it
   * expires (see WriteOptions).
   */
  claimUntil(key: string, now: number, until: number): Promise<number | undefined>;
  /**
   * Takes one unit of a fixed-window budget, or nothing when `limit` units are taken in the
   * current window already. A window starts at its first take and lasts `windowMs`.
   */
  consumeBudget(key: string, now: number, budget: WindowBudget): Promise<BudgetConsumption>;
  /**
   * Gives back one unit taken by consumeBudget (the attempt turned out not to count) — only into
   * the window it was taken from, so a refund can never add to a later window's allowance.
   */
  refundBudget(key: string, now: number, windowEndsAt: number): Promise<void>;
  /**
   * Takes one guess at an account's secret: refused while the account is locked or waiting;
   * otherwise counted at once, as if it were wrong — starting the next wait, or the lock, before
   * the guess is even evaluated. A right guess is given back with refundGuess. The wait and the
   * lock are kept until they expire (see WriteOptions); the failure count is not.
   */
  consumeGuess(keys: GuessKeys, now: number, policy: GuessPolicy): Promise<GuessConsumption>;
  /** Gives a taken guess back: one failure less, and the wait or lock it started undone. */
  refundGuess(keys: GuessKeys, now: number, taken: GuessTaken, policy: GuessPolicy): Promise<void>;
  /** Deletes and returns the value in one step (single use). */
  take(key: string): Promise<string | undefined>;
  delete(...keys: string[]): Promise<void>;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface WriteOptions {
  /**
   * Never forgotten to make room before it expires: a lock or a wait, whose early loss would hand
   * out guesses or sends. The in-memory store's bound (TWOFOLD_MEMORY_STORE_MAX_KEYS) evicts other
   * keys first and grows past the bound rather than drop one of these. Redis ignores it: there
   * its own maxmemory-policy decides.
   */
  keepUntilExpiry?: boolean;
}

export interface WindowBudget {
  limit: number;
  windowMs: number;
}

export type BudgetConsumption =
  | { consumed: true; count: number; windowEndsAt: number }
  | { consumed: false; count: number; windowEndsAt: number };

/** The three keys of an account's guess counter (kept apart so that each expires on its own). */
export interface GuessKeys {
  failures: string;
  waitUntil: string;
  locked: string;
}

export interface GuessPolicy {
  /** Guesses taken before a wait starts. */
  freeFailures: number;
  /** The doubling wait stops growing here. */
  maxDelayMs: number;
  /** The guess that reaches this count locks the account. */
  lockFailures: number;
  /** A count is forgotten this long after its first failure. */
  failuresLifetimeMs: number;
  lockLifetimeMs: number;
}

export interface GuessTaken {
  consumed: true;
  /** Failures counted, this guess included. */
  count: number;
  /** The wait this guess started (0: none), and the one it replaced (0: none) — for a refund. */
  waitUntil: number;
  previousWaitUntil: number;
  /** This guess reached the lock count and locked the account. */
  locked: boolean;
}

export type GuessConsumption = GuessTaken | { consumed: false; locked: true } | { consumed: false; locked: false; retryAfterMs: number };

/** The wait after `count` failures: none up to the free ones, then 1 s, 2 s, 4 s … up to the maximum. */
export function guessDelayMs(count: number, policy: GuessPolicy): number {
  if (count <= policy.freeFailures || count >= policy.lockFailures) return 0;
  return Math.min(2 ** Math.min(count - policy.freeFailures - 1, 30) * 1000, policy.maxDelayMs);
}

/** Redis could not be reached or did not answer in time. Answered as 503 server_busy. */
export class KeyValueStoreUnavailableError extends Error {
  override readonly name = 'KeyValueStoreUnavailableError';
}
