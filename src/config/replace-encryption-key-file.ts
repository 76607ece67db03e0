// Development only: `twofold keys rotate-encryption --generate` puts a fresh key in the data dir's
// encryption.key and keeps the old one in encryption.previous-keys, so values sealed under it
// still open until they are re-sealed. The order makes every crash safe: the old key is appended
// (and synced) first, then the new key file is renamed into place — a reader sees the old key
// file or the new one, never a half-written one, and never a new key without the old one beside it.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encryptionKeyId } from '../core/crypto/secretbox.js';
import { encryptionKeyBytes, encryptionKeyFileName, parseEncryptionKey, previousEncryptionKeysFileName } from './encryption-key.js';
import { ConfigError } from './config-error.js';

export interface ReplacedEncryptionKeyFile {
  /** encryption.key, now holding the new key. */
  path: string;
  /** encryption.previous-keys, now also holding the old key. */
  previousKeysPath: string;
  keyId: string;
  previousKeyId: string;
}

export function replaceEncryptionKeyFile(dataDir: string): ReplacedEncryptionKeyFile {
  const path = join(dataDir, encryptionKeyFileName);
  if (!existsSync(path)) {
    throw new ConfigError(path, 'no generated encryption key to rotate yet (it is created when the server first starts)');
  }
  const oldKey = parseEncryptionKey(readFileSync(path, 'utf8'), path);
  const newKey = randomBytes(encryptionKeyBytes);
  const previousKeysPath = join(dataDir, previousEncryptionKeysFileName);
  appendLineDurably(previousKeysPath, oldKey.toString('base64url'));
  writeFileAtomically(path, `${newKey.toString('base64url')}\n`);
  return { path, previousKeysPath, keyId: encryptionKeyId(newKey), previousKeyId: encryptionKeyId(oldKey) };
}

function appendLineDurably(path: string, line: string): void {
  const descriptor = openSync(path, 'a', 0o600);
  try {
    // The mode above only applies to a new file; a key file must never be readable by others.
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    writeSync(descriptor, `${line}\n`);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

function writeFileAtomically(path: string, content: string): void {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const descriptor = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(descriptor, content);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
