// The OpenID Provider's storage on each database: a row is found until it expires and never after
// (whatever the upkeep has deleted yet), a refresh token is consumed by exactly one of many
// concurrent redemptions and then reads as consumed, and revoking a grant removes every row it gave.
// (The short-lived kinds — codes, interactions — are in the key-value store: oidc-short-lived.test.ts.)
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter } from 'oidc-provider';
import { createSecretBox } from '../../src/core/crypto/secretbox.js';
import { createOidcAdapter } from '../../src/oidc/adapter.js';
import { createMemoryStore } from '../../src/store/kv/memory.js';
import { consumeOidcPayload, deleteExpiredOidcPayloads } from '../../src/store/repositories/oidc-payloads.js';
import { databaseFactories, type TestDatabase } from './databases.js';

describe.each(databaseFactories)('the OpenID Provider adapter on $name', (factory) => {
  let database: TestDatabase;
  let now = 1_800_000_000_000;
  let adapter: (kind: string) => Adapter;
  beforeAll(async () => {
    database = await factory.open();
    const Adapter = createOidcAdapter({ db: database.db, kv: createMemoryStore(() => now), secretBox: createSecretBox([randomBytes(32)]), now: () => now });
    adapter = (kind) => new Adapter(kind);
  });
  afterAll(async () => database.close());

  it('OP-02: find returns a row until it expires, and nothing after', async () => {
    const tokens = adapter('RefreshToken');
    await tokens.upsert('token-1', { accountId: 'user-1', grantId: 'grant-1', kind: 'RefreshToken' }, 60);
    expect(await tokens.find('token-1')).toMatchObject({ accountId: 'user-1', grantId: 'grant-1' });
    expect(await adapter('AccessToken').find('token-1')).toBeUndefined();
    now += 61_000;
    expect(await tokens.find('token-1')).toBeUndefined();
  });

  it('OP-02: of 20 concurrent consumes exactly one wins, and the row then reads as consumed', async () => {
    const tokens = adapter('RefreshToken');
    await tokens.upsert('token-2', { accountId: 'user-1', grantId: 'grant-2', kind: 'RefreshToken' }, 60);
    const wins = await Promise.all(Array.from({ length: 20 }, () => consumeOidcPayload(database.db, 'RefreshToken', 'token-2', now)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await tokens.find('token-2'))?.consumed).toBe(Math.floor(now / 1000));
  });

  it('OP-02: a session is found by its uid and a device code by its user code', async () => {
    await adapter('Session').upsert('s-1', { uid: 'uid-1', kind: 'Session' }, 60);
    await adapter('DeviceCode').upsert('d-1', { userCode: 'ABCD-EFGH', kind: 'DeviceCode' }, 60);
    expect(await adapter('Session').findByUid('uid-1')).toMatchObject({ uid: 'uid-1' });
    expect(await adapter('DeviceCode').findByUserCode('ABCD-EFGH')).toMatchObject({ userCode: 'ABCD-EFGH' });
    expect(await adapter('Session').findByUid('uid-2')).toBeUndefined();
  });

  it('OP-02: revoking a grant removes its tokens, not another grant’s; destroy removes one row', async () => {
    await adapter('AccessToken').upsert('at-1', { grantId: 'grant-3', kind: 'AccessToken' }, 60);
    await adapter('RefreshToken').upsert('rt-1', { grantId: 'grant-3', kind: 'RefreshToken' }, 60);
    await adapter('AccessToken').upsert('at-2', { grantId: 'grant-4', kind: 'AccessToken' }, 60);
    await adapter('AccessToken').revokeByGrantId('grant-3');
    expect(await adapter('AccessToken').find('at-1')).toBeUndefined();
    expect(await adapter('RefreshToken').find('rt-1')).toBeUndefined();
    expect(await adapter('AccessToken').find('at-2')).toBeDefined();
    await adapter('AccessToken').destroy('at-2');
    expect(await adapter('AccessToken').find('at-2')).toBeUndefined();
  });

  it('OP-02: upsert replaces a row (a session saved again) and a row without expiry never expires', async () => {
    const clients = adapter('Client');
    await clients.upsert('client-1', { client_id: 'client-1', redirect_uris: ['https://a.example/cb'] });
    await clients.upsert('client-1', { client_id: 'client-1', redirect_uris: ['https://b.example/cb'] });
    now += 10 * 365 * 86_400_000;
    expect(await clients.find('client-1')).toMatchObject({ redirect_uris: ['https://b.example/cb'] });
  });

  it('the upkeep deletes expired rows in batches, oldest first, and never a live one or a client', async () => {
    const sessions = adapter('Session');
    for (let i = 0; i < 5; i += 1) await sessions.upsert(`old-${i}`, { kind: 'Session' }, 10 + i);
    await sessions.upsert('live', { kind: 'Session' }, 3600);
    now += 60_000;
    // Earlier tests left expired rows too: batches of at most 3 until one comes back short.
    const batches: number[] = [];
    for (let batch = 3; batch === 3; ) batches.push((batch = await deleteExpiredOidcPayloads(database.db, now, 3)));
    expect(batches.every((size) => size <= 3)).toBe(true);
    expect(batches.reduce((sum, size) => sum + size, 0)).toBeGreaterThanOrEqual(5);
    expect(await deleteExpiredOidcPayloads(database.db, now, 3)).toBe(0);
    expect(await sessions.find('live')).toBeDefined();
    expect(await adapter('Client').find('client-1')).toBeDefined();
    const left = await database.db.selectFrom('oidc_payloads').select('id').where('kind', '=', 'Session').execute();
    expect(left.map((row) => row.id)).toEqual(['live']);
  });
});
