// A DPoP replay store several resource-server instances share: a proof accepted by one instance
// must be refused by every other, so each jti is claimed with one atomic `SET key 1 PX ttl NX` in
// Redis. The client is structural (ioredis's `set` signature, which Twofold itself uses), so this
// package does not depend on a Redis library; a failing Redis makes the verifier answer 503.
import type { DpopReplayStore } from '../core/dpop/index.js';

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
