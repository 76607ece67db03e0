// The DPoP jti replay cache on the stores Twofold runs with: the KeyValueStore over in-process
// memory and over Redis (two "instances" sharing one key prefix, as in a cluster), and the small
// in-process store for twofold/verify users without one. A proof is accepted once, even when the
// same proof races itself; a proof failing its signature never burns the jti it carries.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDpopProof, type DpopProofCheckOptions } from '../../src/core/dpop/proof.js';
import { createKeyValueDpopReplayStore, createMemoryDpopReplayStore, type DpopReplayStore } from '../../src/core/dpop/replay-store.js';
import { createMemoryStore } from '../../src/store/kv/memory.js';
import { createRedisStore } from '../../src/store/kv/redis.js';
import { createRedisPrefix, testRedisUrl } from '../helpers/backend.js';
import { createDpopTestKey, makeDpopProof } from '../helpers/dpop-proofs.js';
import { requirement } from '../helpers/requirements.js';

const url = 'https://auth.example.com/v1/token/refresh';
// Said once, and fatal under TWOFOLD_TEST_REQUIRE_ALL=1: the Redis cases are never skipped silently.
const redisAvailable = requirement('Redis for the DPoP replay cache', testRedisUrl !== undefined, 'set TWOFOLD_TEST_REDIS_URL=redis://127.0.0.1:6379');
const key = await createDpopTestKey('ES256');
const disposals: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const dispose of disposals) await dispose();
});

function proof(jti: string, signWith?: Parameters<typeof makeDpopProof>[0]['signWith']): Promise<string> {
  return makeDpopProof({ key, htm: 'POST', htu: url, iat: Math.floor(Date.now() / 1000), claims: { jti }, ...(signWith === undefined ? {} : { signWith }) });
}

function options(replay: DpopReplayStore): DpopProofCheckOptions {
  return { method: 'POST', url, now: Date.now(), replay };
}

async function redisInstances(): Promise<[DpopReplayStore, DpopReplayStore]> {
  const redis = createRedisPrefix();
  const config = { url: testRedisUrl!, keyPrefix: redis.prefix, connectTimeoutMs: 2000, commandTimeoutMs: 2000 };
  const [first, second] = [await createRedisStore(config), await createRedisStore(config)];
  disposals.push(async () => (await first.close(), await second.close(), await redis.dispose()));
  return [createKeyValueDpopReplayStore(first), createKeyValueDpopReplayStore(second)];
}

const stores: { name: string; skip: boolean; instances: () => Promise<[DpopReplayStore, DpopReplayStore]> }[] = [
  {
    name: 'KeyValueStore in memory',
    skip: false,
    instances: () => {
      const replay = createKeyValueDpopReplayStore(createMemoryStore(() => Date.now()));
      return Promise.resolve([replay, replay]);
    },
  },
  { name: 'KeyValueStore on Redis, two instances', skip: !redisAvailable, instances: redisInstances },
  {
    name: 'in-process store (twofold/verify)',
    skip: false,
    instances: () => {
      const replay = createMemoryDpopReplayStore({ now: () => Date.now() });
      return Promise.resolve([replay, replay]);
    },
  },
];

describe.each(stores)('DPoP replay cache: $name', ({ skip, instances }) => {
  it.skipIf(skip)('DP-08: a proof accepted on one instance is refused as a replay on the other', async () => {
    const [first, second] = await instances();
    const replayed = await proof(randomBytes(8).toString('hex'));
    expect(await checkDpopProof(replayed, options(first))).toMatchObject({ ok: true });
    expect(await checkDpopProof(replayed, options(second))).toMatchObject({ ok: false, error: 'invalid_dpop_proof', description: 'the DPoP proof was used already' });
  });

  it.skipIf(skip)('DP-08: of 20 concurrent uses of one proof across instances exactly one is accepted', async () => {
    const [first, second] = await instances();
    const raced = await proof(randomBytes(8).toString('hex'));
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => checkDpopProof(raced, options(index % 2 === 0 ? first : second))));
    expect(results.filter((result) => result.ok)).toHaveLength(1);
  });

  it.skipIf(skip)('DP-08: a proof with the same jti but a signature by another key does not burn the jti', async () => {
    const [first, second] = await instances();
    const jti = randomBytes(8).toString('hex');
    const attacker = await createDpopTestKey('ES256');
    expect(await checkDpopProof(await proof(jti, attacker.privateKey), options(first))).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    expect(await checkDpopProof(await proof(jti), options(second))).toMatchObject({ ok: true, jti });
  });
});

describe('DPoP replay cache: claims', () => {
  it('DP-08: a claim ends with its time to live; the in-process store, when full, refuses new claims rather than forget one', async () => {
    let clock = Date.now();
    const replay = createMemoryDpopReplayStore({ now: () => clock, maxEntries: 2 });
    expect(await replay.claimOnce('a', 1000)).toBe(true);
    expect(await replay.claimOnce('a', 1000)).toBe(false);
    expect(await replay.claimOnce('b', 5000)).toBe(true);
    expect(await replay.claimOnce('c', 1000)).toBe(false);
    clock += 1001;
    expect(await replay.claimOnce('a', 1000)).toBe(true);
    expect(await replay.claimOnce('b', 1000)).toBe(false);
  });

  it('DP-08: a full in-process store frees expired claims as it goes: 200,000 claims through a store of 1,000 over time all succeed, none replayable while held', async () => {
    let clock = 0;
    const replay = createMemoryDpopReplayStore({ now: () => clock, maxEntries: 1000 });
    for (let index = 0; index < 200_000; index += 1) {
      clock += 1;
      // 1,000 claims a second, each held 900 ms: the store never holds more than 900 live ones.
      expect(await replay.claimOnce(`jti-${index}`, 900)).toBe(true);
      if (index % 997 === 0) expect(await replay.claimOnce(`jti-${index}`, 900)).toBe(false);
    }
  });

  it.skipIf(!redisAvailable)('DP-08: on Redis a claim expires with its time to live', async () => {
    const [replay] = await redisInstances();
    expect(await replay.claimOnce('short', 150)).toBe(true);
    expect(await replay.claimOnce('short', 150)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await replay.claimOnce('short', 150)).toBe(true);
  });
});
