// The provider's short-lived kinds in the key-value store (Redis or memory, as the suite runs):
// found until they expire, a code consumed by exactly one of many concurrent redemptions (the
// others are replays: invalid_grant, the grant revoked), an interaction resumed by exactly one
// of many concurrent resumptions, an interaction found by its uid.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors } from 'oidc-provider';
import { ShortLivedOidcAdapter } from '../../src/oidc/short-lived-adapter.js';
import type { KeyValueStore } from '../../src/store/kv/key-value-store.js';
import { createMemoryStore } from '../../src/store/kv/memory.js';
import { createRedisStore } from '../../src/store/kv/redis.js';
import { createRedisPrefix, testRedisUrl, testSharedState } from '../helpers/backend.js';

describe(`the provider's short-lived kinds (${testSharedState})`, () => {
  let kv: KeyValueStore;
  let dispose: () => Promise<void> = async () => undefined;
  let now = Date.now();
  const revoked: string[] = [];
  const adapter = (kind: string) => new ShortLivedOidcAdapter(kind, { kv, now: () => now, revokeGrant: async (grantId) => void revoked.push(grantId) });

  beforeAll(async () => {
    if (testSharedState === 'redis') {
      const redis = createRedisPrefix();
      kv = await createRedisStore({ url: testRedisUrl!, keyPrefix: redis.prefix, connectTimeoutMs: 2000, commandTimeoutMs: 2000 });
      dispose = async () => (await kv.close(), await redis.dispose());
    } else {
      kv = createMemoryStore(() => now);
    }
  });
  afterAll(async () => dispose());

  it('OP-02: a code is found until it expires', async () => {
    await adapter('AuthorizationCode').upsert('code-1', { accountId: 'user-1', grantId: 'grant-1' }, 1);
    expect(await adapter('AuthorizationCode').find('code-1')).toMatchObject({ accountId: 'user-1' });
    if (testSharedState === 'redis') await new Promise((resolve) => setTimeout(resolve, 1_100));
    else now += 1_001;
    expect(await adapter('AuthorizationCode').find('code-1')).toBeUndefined();
  });

  it('OP-02: of 20 concurrent consumes of one code exactly one wins; the others are invalid_grant and revoke its grant', async () => {
    const codes = adapter('AuthorizationCode');
    await codes.upsert('code-2', { accountId: 'user-1', grantId: 'grant-2' }, 60);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => adapter('AuthorizationCode').consume('code-2')));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((candidate) => candidate.status === 'rejected')) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(errors.InvalidGrant);
    expect(revoked.filter((grantId) => grantId === 'grant-2')).toHaveLength(19);
    expect((await codes.find('code-2'))?.consumed).toBe(Math.floor(now / 1000));
  });

  it('OP-20: of 12 concurrent destroys of one interaction (its resumption) exactly one goes on; it is found by uid until then', async () => {
    await adapter('Interaction').upsert('uid-3', { uid: 'uid-3', kind: 'Interaction' }, 60);
    expect(await adapter('Interaction').findByUid('uid-3')).toMatchObject({ uid: 'uid-3' });
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => adapter('Interaction').destroy('uid-3')));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((candidate) => candidate.status === 'rejected')) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(errors.SessionNotFound);
    expect(await adapter('Interaction').find('uid-3')).toBeUndefined();
    expect(await adapter('Interaction').findByUid('uid-3')).toBeUndefined();
  });

  it('a pushed request used twice at once: one goes on, the other is told its request_uri is spent', async () => {
    await adapter('PushedAuthorizationRequest').upsert('par-1', { kind: 'PushedAuthorizationRequest' }, 60);
    const results = await Promise.allSettled([adapter('PushedAuthorizationRequest').consume('par-1'), adapter('PushedAuthorizationRequest').consume('par-1')]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(errors.InvalidRequestUri);
  });
});
