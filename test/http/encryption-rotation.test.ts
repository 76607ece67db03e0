// Rotating the root encryption key. Values sealed under the old key are
// re-sealed under the new one while both are configured; afterwards the new key alone opens
// everything, sign-in and token signing carry on untouched, and start-up names a missing key.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { createSecretBox, encryptionKeyId } from '../../src/core/crypto/secretbox.js';
import { countSealedValuesByKeyId } from '../../src/flows/keys/encryption-key-usage.js';
import { readResealBatch, rotateEncryptionKey, writeResealBatch } from '../../src/flows/keys/rotate-encryption-key.js';
import { serverSecretAad } from '../../src/flows/keys/server-secrets.js';
import { privateKeyAad } from '../../src/flows/keys/signing-keys.js';
import { totpAad } from '../../src/flows/factors/totp-factor.js';
import { createTwofold, StartupError } from '../../src/twofold.js';
import { oidcClientSecretAad } from '../../src/flows/keys/oidc-client-secret-aad.js';
import { registerConfidentialOidcClient } from '../../src/oidc/clients.js';
import { readOutboxMessages } from '../../src/delivery/outbox.js';
import { bearer, getJson, registerUser, signIn, signUp, type SignedUp } from '../helpers/flow.js';
import { enrollDestination, uniquePhone } from '../helpers/otp.js';
import { lastSentCode, rawOutboxRows } from '../helpers/outbox.js';
import { startTestTwofold, testEnvironment, type TestTwofold } from '../helpers/twofold.js';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const oldKeyId = encryptionKeyId(oldKey);
const newKeyId = encryptionKeyId(newKey);
const keyEnv = (current: Buffer, ...previous: Buffer[]): Record<string, string> => ({
  TWOFOLD_ENCRYPTION_KEY: current.toString('base64'),
  TWOFOLD_PREVIOUS_ENCRYPTION_KEYS: previous.map((key) => key.toString('base64url')).join(','),
});

/**
 * Starts a Twofold on the data of `t` with other keys, expecting it to fail. It checks a start-up
 * beside the running `t`, so it holds no single-instance lease (as the CLI's tools don't).
 */
async function startupFailure(t: TestTwofold, env: Record<string, string>): Promise<unknown> {
  const config = () => loadConfig(testEnvironment(t.dataDir, { ...t.storage.env, ...env }));
  return createTwofold(config(), { singleInstance: false }).then(
    async (started) => {
      await started.close();
      return expect.fail('expected the start to fail');
    },
    (error: unknown) => error,
  );
}

let oidcClientSecret = '';

/** Starts with the old key, signs people up, then restarts with the new key and the old one as previous. */
async function startRotatedFromOldKey(): Promise<{ t: TestTwofold; users: SignedUp[]; jwksBefore: unknown }> {
  const before = await startTestTwofold({ env: keyEnv(oldKey) });
  const users = [await signUp(before), await signUp(before), await signUp(before)];
  await registerUser(before); // a pending TOTP factor is sealed too
  // An OpenID Provider client's secret is sealed too (its own column since migration 0017).
  oidcClientSecret = await registerConfidentialOidcClient(before.ctx.db, before.ctx.secretBox, { clientId: 'rotated-app', redirectUris: ['https://rotated.example/cb'] });
  const jwksBefore = (await getJson(before.app, '/.well-known/jwks.json')).json();
  await before.stop();
  const t = await startTestTwofold({ restartOf: before, clock: before.clock, env: keyEnv(newKey, oldKey) });
  return { t, users, jwksBefore };
}

describe('rotateEncryptionKey()', () => {
  let t: TestTwofold;
  let users: SignedUp[];
  let jwksBefore: unknown;
  beforeAll(async () => {
    ({ t, users, jwksBefore } = await startRotatedFromOldKey());
  });
  afterAll(async () => t?.close());

  it('counts what each key seals: before the rotation, everything stored is under the old key', async () => {
    const usage = await countSealedValuesByKeyId(t.ctx.db, t.ctx.secretBox);
    expect(usage).toEqual([{ keyId: oldKeyId, counts: { factors: 4, signing_keys: 1, server_secrets: 2, outbox: 0, oidc_payloads: 1 }, total: 8 }]);
  });

  it('OT-08, OP-05: re-seals every TOTP secret, private signing key, server secret and OIDC client secret so that the new key alone opens them', async () => {
    const rotation = await rotateEncryptionKey(t.ctx, { batchSize: 2 });
    expect(rotation).toEqual({ keyId: newKeyId, resealed: { factors: 4, signing_keys: 1, server_secrets: 2, outbox: 0, oidc_payloads: 1 }, changedConcurrently: 0, unopenable: 0, remaining: [] });
    const onlyNewKey = createSecretBox([newKey]);
    const factors = await t.ctx.db.selectFrom('factors').select(['id', 'user_id', 'secret_ciphertext']).where('secret_ciphertext', 'is not', null).execute();
    expect(factors).toHaveLength(4);
    for (const factor of factors) expect(onlyNewKey.open(factor.secret_ciphertext!, totpAad(factor.id, factor.user_id))).toMatch(/^[A-Z2-7]{32,}$/);
    for (const user of users) {
      const factor = factors.find((row) => row.id === user.factorId)!;
      expect(onlyNewKey.open(factor.secret_ciphertext!, totpAad(factor.id, factor.user_id))).toBe(user.secret);
    }
    for (const key of await t.ctx.db.selectFrom('signing_keys').selectAll().execute()) expect(() => onlyNewKey.open(key.private_ciphertext, privateKeyAad(key.kid))).not.toThrow();
    for (const secret of await t.ctx.db.selectFrom('server_secrets').selectAll().execute()) expect(() => onlyNewKey.open(secret.ciphertext, serverSecretAad(secret.name))).not.toThrow();
    // The OpenID Provider client's secret: the same secret, now under the new key, and no copy left in its JSON.
    const client = await t.ctx.db.selectFrom('oidc_payloads').selectAll().where('kind', '=', 'Client').where('id', '=', 'rotated-app').executeTakeFirstOrThrow();
    expect(onlyNewKey.open(client.sealed_secret!, oidcClientSecretAad('rotated-app'))).toBe(oidcClientSecret);
    expect(client.payload).not.toContain('twofold_client_secret_sealed');
    expect(await countSealedValuesByKeyId(t.ctx.db, t.ctx.secretBox)).toEqual([{ keyId: newKeyId, counts: { factors: 4, signing_keys: 1, server_secrets: 2, outbox: 0, oidc_payloads: 1 }, total: 8 }]);
  });

  it('OT-08: TOTP sign-in still works, tokens verify, and the JWKS is unchanged (signing kids do not move)', async () => {
    for (const user of users) {
      const tokens = await signIn(t, user);
      expect((await getJson(t.app, '/v1/me', bearer(tokens.accessToken))).statusCode).toBe(200);
    }
    expect((await getJson(t.app, '/v1/me', bearer(users[0]!.accessToken))).statusCode).toBe(200);
    expect((await getJson(t.app, '/.well-known/jwks.json')).json()).toEqual(jwksBefore);
  });

  it('a second run re-seals nothing', async () => {
    const again = await rotateEncryptionKey(t.ctx);
    expect(again.resealed).toEqual({ factors: 0, signing_keys: 0, server_secrets: 0, outbox: 0, oidc_payloads: 0 });
    expect(again.remaining).toEqual([]);
  });

  it('LOG-01: the rotation is one encryption_key.rotated event with key ids and counts, never a key', async () => {
    const events = t.events.filter((event) => event.type === 'encryption_key.rotated');
    expect(events).toEqual([{ type: 'encryption_key.rotated', details: { key_id: newKeyId, resealed: 8, remaining: 0, remaining_key_ids: '' } }]);
    await t.ctx.auditTrail.flush();
    const stored = await t.ctx.db.selectFrom('security_events').selectAll().where('type', '=', 'encryption_key.rotated').execute();
    expect(stored).toHaveLength(1);
    for (const key of [oldKey, newKey]) {
      for (const encoding of ['base64', 'base64url', 'hex'] as const) expect(stored[0]!.details).not.toContain(key.toString(encoding));
    }
  });

  it('a later start with only the new key works', async () => {
    const config = loadConfig(testEnvironment(t.dataDir, { ...t.storage.env, ...keyEnv(newKey) }));
    const started = await createTwofold(config, { singleInstance: false });
    expect(started.encryptionKey).toMatchObject({ id: newKeyId, previousIds: [] });
    await started.close();
  });

  it('a start with only the old key after the rotation fails, naming the missing key id and TWOFOLD_PREVIOUS_ENCRYPTION_KEYS', async () => {
    const error = await startupFailure(t, keyEnv(oldKey));
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toContain(`${newKeyId} (8 values)`);
    expect((error as Error).message).toContain('TWOFOLD_PREVIOUS_ENCRYPTION_KEYS');
    expect((error as Error).message).not.toContain(oldKey.toString('base64'));
  });

  it('a start with a malformed previous key fails with a ConfigError naming TWOFOLD_PREVIOUS_ENCRYPTION_KEYS, not the value', async () => {
    const error = await startupFailure(t, { TWOFOLD_ENCRYPTION_KEY: newKey.toString('base64'), TWOFOLD_PREVIOUS_ENCRYPTION_KEYS: `${oldKey.toString('hex')},${oldKey.toString('hex').slice(2)}` });
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('TWOFOLD_PREVIOUS_ENCRYPTION_KEYS');
    expect((error as ConfigError).message).toContain('entry 2 of 2');
    expect((error as ConfigError).message).not.toContain(oldKey.toString('hex').slice(2));
  });

  it('a start with the current key also listed as previous is refused', async () => {
    const error = await startupFailure(t, keyEnv(newKey, newKey));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('is the current TWOFOLD_ENCRYPTION_KEY');
  });
});

describe('rotateEncryptionKey() beside other writers', () => {
  let t: TestTwofold;
  let users: SignedUp[];
  beforeAll(async () => {
    ({ t, users } = await startRotatedFromOldKey());
  });
  afterAll(async () => t?.close());

  it('never overwrites a value changed between its read and its write', async () => {
    const batch = await readResealBatch(t.ctx, 'factors', { limit: 200 });
    expect(batch.replacements).toHaveLength(4);
    // Meanwhile another writer replaces one user's secret and removes another's factor.
    const [changed, removed] = users;
    const newerCiphertext = t.ctx.secretBox.seal('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', totpAad(changed!.factorId, changed!.userId));
    await t.ctx.db.updateTable('factors').set({ secret_ciphertext: newerCiphertext }).where('id', '=', changed!.factorId).execute();
    await t.ctx.db.deleteFrom('factors').where('id', '=', removed!.factorId).execute();

    expect(await writeResealBatch(t.ctx, batch)).toEqual({ resealed: 2, changedConcurrently: 2 });
    const row = await t.ctx.db.selectFrom('factors').select('secret_ciphertext').where('id', '=', changed!.factorId).executeTakeFirstOrThrow();
    expect(row.secret_ciphertext).toBe(newerCiphertext);
    expect(await t.ctx.db.selectFrom('factors').select('id').where('id', '=', removed!.factorId).executeTakeFirst()).toBeUndefined();
  });

  it('a run after an interrupted one finishes the rest and leaves nothing under the old key', async () => {
    const rotation = await rotateEncryptionKey(t.ctx);
    expect(rotation.resealed).toEqual({ factors: 0, signing_keys: 1, server_secrets: 2, outbox: 0, oidc_payloads: 1 });
    expect(rotation.remaining).toEqual([]);
    expect(await signIn(t, users[2]!)).toMatchObject({ accessToken: expect.any(String) });
  });

  it('leaves a value sealed under a key it does not have, and reports it as remaining', async () => {
    const stranger = createSecretBox([randomBytes(32)]);
    const user = users[2]!;
    const foreign = stranger.seal('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', totpAad(user.factorId, user.userId));
    await t.ctx.db.updateTable('factors').set({ secret_ciphertext: foreign }).where('id', '=', user.factorId).execute();
    const rotation = await rotateEncryptionKey(t.ctx);
    expect(rotation.unopenable).toBe(1);
    expect(rotation.remaining).toEqual([{ keyId: stranger.currentKeyId, counts: { factors: 1, signing_keys: 0, server_secrets: 0, outbox: 0, oidc_payloads: 0 }, total: 1 }]);
    const row = await t.ctx.db.selectFrom('factors').select('secret_ciphertext').where('id', '=', user.factorId).executeTakeFirstOrThrow();
    expect(row.secret_ciphertext).toBe(foreign);
  });
});

describe('OB-01: the development outbox is sealed under the encryption key, and rotates with it', () => {
  let t: TestTwofold;
  let phone: string;
  let code: string;
  beforeAll(async () => {
    const before = await startTestTwofold({ env: keyEnv(oldKey) });
    const user = await registerUser(before);
    phone = uniquePhone();
    expect((await enrollDestination(before, user.mfaToken, { type: 'sms', phone })).statusCode).toBe(201);
    code = await lastSentCode(before, phone);
    await before.stop();
    t = await startTestTwofold({ restartOf: before, clock: before.clock, env: keyEnv(newKey, oldKey) });
  });
  afterAll(async () => t?.close());

  it('OB-01: counts the outbox message under the key that sealed it, and a start without that key names it', async () => {
    const usage = await countSealedValuesByKeyId(t.ctx.db, t.ctx.secretBox);
    expect(usage).toEqual([{ keyId: oldKeyId, counts: { factors: 1, signing_keys: 1, server_secrets: 2, outbox: 1, oidc_payloads: 0 }, total: 5 }]);
    expect(await lastSentCode(t, phone)).toBe(code);
    const error = await startupFailure(t, keyEnv(newKey));
    expect(error).toBeInstanceOf(StartupError);
    expect((error as Error).message).toContain(`${oldKeyId} (5 values)`);
  });

  it('OB-01: re-seals the outbox message: the new key alone opens it, with the same code', async () => {
    const rotation = await rotateEncryptionKey(t.ctx);
    expect(rotation).toMatchObject({ resealed: { factors: 1, signing_keys: 1, server_secrets: 2, outbox: 1, oidc_payloads: 0 }, unopenable: 0, remaining: [] });
    const [row] = await rawOutboxRows(t, phone);
    expect(row!.content_ciphertext.startsWith(`v1.${newKeyId}.`)).toBe(true);
    expect(JSON.stringify(row)).not.toContain(code);
    const onlyNewKey = createSecretBox([newKey]);
    const [message] = await readOutboxMessages(t.ctx.db, onlyNewKey, { destination: phone, limit: 1 });
    expect(message!.text).toContain(code);
  });

  it('OB-01: after the rotation a start with only the new key works: the outbox does not hold the old key back', async () => {
    const config = loadConfig(testEnvironment(t.dataDir, { ...t.storage.env, ...keyEnv(newKey) }));
    const started = await createTwofold(config, { singleInstance: false });
    expect(started.encryptionKey).toMatchObject({ id: newKeyId, previousIds: [] });
    await started.close();
  });
});
