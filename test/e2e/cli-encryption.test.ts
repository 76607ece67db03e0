// `twofold keys rotate-encryption` and `twofold keys encryption-status`, run as the compiled
// binary: the development flow with the generated key file (--generate), the operator flow with
// keys in the environment, and the refusals.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encryptionKeyFileName, previousEncryptionKeysFileName } from '../../src/config/encryption-key.js';
import { encryptionKeyId } from '../../src/core/crypto/secretbox.js';
import { signIn, signUp } from '../helpers/flow.js';
import { runCommand } from '../helpers/process.js';
import { startTestTwofold, testEnvironment } from '../helpers/twofold.js';

const dataDirs: string[] = [];
afterEach(() => {
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-cli-encryption-'));
  dataDirs.push(dir);
  return dir;
}

const twofold = (env: Record<string, string>, ...args: string[]) => runCommand(process.execPath, ['dist/cli/main.js', ...args], env);
const permissions = (path: string): number => statSync(path).mode & 0o777;

/** A data dir with one signed-up user, made by a Twofold that has since stopped. */
async function dataWithOneUser(dataDir: string, env: Record<string, string> = {}) {
  const t = await startTestTwofold({ dataDir, env });
  const user = await signUp(t);
  await t.stop();
  return { user, clock: t.clock };
}

describe('twofold keys rotate-encryption', () => {
  it('explains itself with --help', async () => {
    const help = await twofold(testEnvironment(freshDataDir()), 'keys', 'rotate-encryption', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--generate');
    expect(help.stdout).toContain('TWOFOLD_PREVIOUS_ENCRYPTION_KEYS');
    expect((await twofold(testEnvironment(freshDataDir()), 'keys', '--help')).stdout).toContain('encryption-status');
  });

  it('--generate in development replaces the key file, keeps the old key beside it, and re-seals everything', async () => {
    const dataDir = freshDataDir();
    const env = testEnvironment(dataDir, { TWOFOLD_LOG_LEVEL: 'warn' });
    const { user, clock } = await dataWithOneUser(dataDir);
    const keyPath = join(dataDir, encryptionKeyFileName);
    const oldKeyText = readFileSync(keyPath, 'utf8').trim();
    const oldKeyId = encryptionKeyId(Buffer.from(oldKeyText, 'base64url'));

    const result = await twofold(env, 'keys', 'rotate-encryption', '--generate', '--json');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    const newKeyId = encryptionKeyId(Buffer.from(readFileSync(keyPath, 'utf8').trim(), 'base64url'));
    expect(report).toMatchObject({
      key_id: newKeyId,
      resealed: { factors: 1, signing_keys: 1, server_secrets: 2 },
      complete: true,
      removable_previous_key_ids: [oldKeyId],
      generated: { key_id: newKeyId, previous_key_id: oldKeyId },
    });
    expect(newKeyId).not.toBe(oldKeyId);
    expect(permissions(keyPath)).toBe(0o600);
    const previousKeysPath = join(dataDir, previousEncryptionKeysFileName);
    expect(readFileSync(previousKeysPath, 'utf8')).toBe(`${oldKeyText}\n`);
    expect(permissions(previousKeysPath)).toBe(0o600);
    expect(result.stdout).not.toContain(oldKeyText);

    const status = await twofold(env, 'keys', 'encryption-status', '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual([
      { key_id: newKeyId, state: 'current', factors: 1, signing_keys: 1, server_secrets: 2, outbox: 0, oidc_payloads: 0, total: 4 },
      { key_id: oldKeyId, state: 'previous', factors: 0, signing_keys: 0, server_secrets: 0, outbox: 0, oidc_payloads: 0, total: 0 },
    ]);

    // A restarted server opens everything with the new key alone: the old one may go.
    rmSync(previousKeysPath);
    const restarted = await startTestTwofold({ dataDir, clock });
    try {
      expect(restarted.twofold.encryptionKey).toMatchObject({ id: newKeyId, previousIds: [] });
      expect(await signIn(restarted, user)).toMatchObject({ accessToken: expect.any(String) });
    } finally {
      await restarted.stop();
    }
  });

  it('--generate tells people to restart running servers', async () => {
    const dataDir = freshDataDir();
    await dataWithOneUser(dataDir);
    const result = await twofold(testEnvironment(dataDir, { TWOFOLD_LOG_LEVEL: 'warn' }), 'keys', 'rotate-encryption', '--generate');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/re-sealed 4 value\(s\) under encryption key/);
    expect(result.stdout).toContain('Restart running servers');
  });

  it('refuses --generate in production mode, where the key comes from the secret manager, and touches nothing', async () => {
    const dataDir = freshDataDir();
    const env = testEnvironment(dataDir, {
      NODE_ENV: 'production',
      TWOFOLD_PUBLIC_URL: 'https://auth.example.com',
      TWOFOLD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      TWOFOLD_ARGON2_MEMORY_KIB: '19456',
      TWOFOLD_ARGON2_TIME_COST: '2',
      TWOFOLD_THROTTLE_LOCK_FAILURES: '100',
      TWOFOLD_FACTORS: 'totp,recovery',
      TWOFOLD_PASSWORD_RESET: 'off',
      TWOFOLD_NOTIFY: 'off',
    });
    const result = await twofold(env, 'keys', 'rotate-encryption', '--generate');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--generate is refused in production mode');
    expect(result.stderr).toContain('TWOFOLD_PREVIOUS_ENCRYPTION_KEYS');
    expect(existsSync(join(dataDir, encryptionKeyFileName))).toBe(false);
    expect(existsSync(join(dataDir, 'twofold.db'))).toBe(false);
  });

  it('refuses --generate when the key is given in TWOFOLD_ENCRYPTION_KEY', async () => {
    const dataDir = freshDataDir();
    const result = await twofold(testEnvironment(dataDir, { TWOFOLD_ENCRYPTION_KEY: randomBytes(32).toString('base64') }), 'keys', 'rotate-encryption', '--generate');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TWOFOLD_ENCRYPTION_KEY is set');
    expect(existsSync(join(dataDir, encryptionKeyFileName))).toBe(false);
  });

  it('with keys in the environment: re-seals under the new key, then says the previous key may be removed', async () => {
    const dataDir = freshDataDir();
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    await dataWithOneUser(dataDir, { TWOFOLD_ENCRYPTION_KEY: oldKey.toString('base64') });
    const rotating = testEnvironment(dataDir, { TWOFOLD_ENCRYPTION_KEY: newKey.toString('base64'), TWOFOLD_PREVIOUS_ENCRYPTION_KEYS: oldKey.toString('hex'), TWOFOLD_LOG_LEVEL: 'warn' });

    const before = JSON.parse((await twofold(rotating, 'keys', 'encryption-status', '--json')).stdout);
    expect(before).toEqual([
      { key_id: encryptionKeyId(newKey), state: 'current', factors: 0, signing_keys: 0, server_secrets: 0, outbox: 0, oidc_payloads: 0, total: 0 },
      { key_id: encryptionKeyId(oldKey), state: 'previous', factors: 1, signing_keys: 1, server_secrets: 2, outbox: 0, oidc_payloads: 0, total: 4 },
    ]);
    const result = await twofold(rotating, 'keys', 'rotate-encryption');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`re-sealed 4 value(s) under encryption key ${encryptionKeyId(newKey)}`);
    expect(result.stdout).toContain(`Nothing is sealed under ${encryptionKeyId(oldKey)} any more`);
    expect(result.stdout).not.toContain('Restart running servers');
    const again = JSON.parse((await twofold(rotating, 'keys', 'rotate-encryption', '--json')).stdout);
    expect(again).toMatchObject({ resealed: { factors: 0, signing_keys: 0, server_secrets: 0 }, complete: true });

    const onlyOld = await twofold(testEnvironment(dataDir, { TWOFOLD_ENCRYPTION_KEY: oldKey.toString('base64') }), 'keys', 'encryption-status');
    expect(onlyOld.code).toBe(1);
    expect(onlyOld.stderr).toContain(`encryption key id(s) ${encryptionKeyId(newKey)} (4 values)`);
    expect(onlyOld.stderr).toContain('TWOFOLD_PREVIOUS_ENCRYPTION_KEYS');
    const onlyNew = await twofold(testEnvironment(dataDir, { TWOFOLD_ENCRYPTION_KEY: newKey.toString('base64') }), 'keys', 'encryption-status', '--json');
    expect(onlyNew.code, onlyNew.stderr).toBe(0);
  });

  it('a malformed previous key is one configuration error line naming the variable, without the value', async () => {
    const env = testEnvironment(freshDataDir(), { TWOFOLD_ENCRYPTION_KEY: randomBytes(32).toString('base64'), TWOFOLD_PREVIOUS_ENCRYPTION_KEYS: 'secret-looking-nonsense' });
    const result = await twofold(env, 'keys', 'rotate-encryption');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^twofold: configuration error: TWOFOLD_PREVIOUS_ENCRYPTION_KEYS: entry 1 of 1: /);
    expect(result.stderr).not.toContain('secret-looking-nonsense');
  });
});
