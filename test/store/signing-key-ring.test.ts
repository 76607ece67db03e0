// The key ring of one instance when another instance rotates and the announcement never arrives
// (pub/sub down): a token signed with the new key is never refused on the strength of a load that
// began before it arrived — even right after a flood of made-up kids — and concurrent lookups of
// one unknown kid share one query.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/core/crypto/secretbox.js';
import { createKeyRingManager, type KeyRingManager } from '../../src/flows/keys/signing-keys.js';
import { databaseFactories, type TestDatabase } from './databases.js';

describe.each(databaseFactories)('the signing-key ring on $name', (factory) => {
  let database: TestDatabase;
  let here: KeyRingManager;
  let elsewhere: KeyRingManager;
  beforeAll(async () => {
    database = await factory.open();
    const options = { db: database.db, secretBox: createSecretBox([randomBytes(32)]), algorithm: 'EdDSA' as const, now: Date.now, retiredKeyRetentionMs: 3_600_000 };
    here = await createKeyRingManager(options);
    elsewhere = await createKeyRingManager(options);
  });
  afterAll(async () => database.close());

  it('JW-05: a key another instance rotated to verifies at once, even right after made-up kids', async () => {
    for (let i = 0; i < 50; i += 1) expect(await here.findKey(`made-up-${i}`)).toBeUndefined();
    const rotated = await elsewhere.rotate();
    const found = await here.findKey(rotated.kid);
    expect(found?.kid).toBe(rotated.kid);
  });

  it('JW-05: 100 concurrent lookups of made-up kids and of a freshly rotated kid: the real one is found by all', async () => {
    const rotated = await elsewhere.rotate();
    const lookups = await Promise.all(Array.from({ length: 200 }, (_, i) => here.findKey(i % 2 === 0 ? rotated.kid : `made-up-${i}`)));
    expect(lookups.filter((key) => key?.kid === rotated.kid)).toHaveLength(100);
    expect(lookups.filter((key) => key === undefined)).toHaveLength(100);
  });
});
