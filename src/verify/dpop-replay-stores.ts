// Where a resource server claims each DPoP proof's jti once. In process (the default) for a single
// instance. In Redis when several instances serve the API: a proof accepted by one instance must
// be refused by every other, so each jti is claimed with one atomic `SET key 1 PX ttl NX`. The
// client is structural (ioredis's `set` signature, which Twofold itself uses), so this package does
// not depend on a Redis library; a failing Redis makes the verifier answer 503.
import { createMemoryDpopReplayStore as createCoreMemoryStore, type DpopReplayStore } from '../core/dpop/index.js';

export interface MemoryDpopReplayStoreOptions {
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
  /** Claims held at most (default 100,000); when full, new proofs are refused rather than a claim forgotten. */
  maxEntries?: number;
}

/** Claims in this process only: right for one instance, not for several behind a load balancer. */
export function createMemoryDpopReplayStore(options: MemoryDpopReplayStoreOptions = {}): DpopReplayStore {
  return createCoreMemoryStore({ now: options.now ?? Date.now, ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }) });
}

/** Anything with ioredis's `set(key, value, 'PX', ms, 'NX')`: 'OK' when set, null when the key existed. */
export interface RedisSetIfAbsentClient {
  set(key: string, value: string, expiryMode: 'PX', milliseconds: number, condition: 'NX'): Promise<string | null>;
}

export interface RedisDpopReplayStoreOptions {
  /** Prepended to every key; default "twofold-verify:dpop-jti:". */
  keyPrefix?: string;
}

export function createRedisDpopReplayStore(client: RedisSetIfAbsentClient, options: RedisDpopReplayStoreOptions = {}): DpopReplayStore {
  const keyPrefix = options.keyPrefix ?? 'twofold-verify:dpop-jti:';
  return {
    async claimOnce(key, ttlMs) {
      const answer = await client.set(`${keyPrefix}${key}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
      return answer === 'OK';
    },
  };
}
