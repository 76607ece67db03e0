import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptionKeyId } from '../core/crypto/secretbox.js';
import { encryptionKeyFileName, previousEncryptionKeysFileName, resolveEncryptionKey } from './encryption-key.js';
import { ConfigError } from './load.js';
import { replaceEncryptionKeyFile } from './replace-encryption-key-file.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'twofold-replace-key-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const permissions = (path: string): number => statSync(path).mode & 0o777;
const resolve = () => resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });

describe('replaceEncryptionKeyFile()', () => {
  it('writes a new key (0600) and keeps the old one in encryption.previous-keys (0600), which resolve then opens with', () => {
    const old = resolve().key;
    const replaced = replaceEncryptionKeyFile(dataDir);
    expect(replaced.previousKeyId).toBe(encryptionKeyId(old));
    expect(replaced.keyId).not.toBe(replaced.previousKeyId);
    expect(permissions(replaced.path)).toBe(0o600);
    expect(permissions(replaced.previousKeysPath)).toBe(0o600);
    expect(readFileSync(replaced.previousKeysPath, 'utf8')).toBe(`${old.toString('base64url')}\n`);
    const resolved = resolve();
    expect(encryptionKeyId(resolved.key)).toBe(replaced.keyId);
    expect(resolved.previousKeys.map((key) => key.toString('hex'))).toEqual([old.toString('hex')]);
    // No temporary file is left behind.
    expect(readdirSync(dataDir).sort()).toEqual([encryptionKeyFileName, previousEncryptionKeysFileName].sort());
  });

  it('appends: after two rotations both old keys still open', () => {
    const first = resolve().key;
    replaceEncryptionKeyFile(dataDir);
    const second = resolve().key;
    replaceEncryptionKeyFile(dataDir);
    expect(resolve().previousKeys.map((key) => key.toString('hex'))).toEqual([first.toString('hex'), second.toString('hex')]);
  });

  it('tightens a previous-keys file someone made readable to others', () => {
    resolve();
    const path = join(dataDir, previousEncryptionKeysFileName);
    writeFileSync(path, '', { mode: 0o644 });
    replaceEncryptionKeyFile(dataDir);
    expect(permissions(path)).toBe(0o600);
  });

  it('refuses when there is no generated key yet, naming the file', () => {
    expect(() => replaceEncryptionKeyFile(dataDir)).toThrow(ConfigError);
    expect(readdirSync(dataDir)).toEqual([]);
  });
});
