// The root secret: it encrypts TOTP secrets, private signing keys and the server pepper.
// Production passes it in TWOFOLD_ENCRYPTION_KEY; development generates one into the data dir
// (mode 0600). The key is written to a private temporary file and then hard-linked into place:
// the link either creates the complete file or fails because another instance won, so two
// instances starting together agree on one key and neither ever reads a half-written file.
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './load.js';
import type { TwofoldConfig } from './schema.js';

export const encryptionKeyBytes = 32;
export const encryptionKeyFileName = 'encryption.key';

export interface ResolvedEncryptionKey {
  key: Buffer;
  source: 'environment' | 'generated-file' | 'existing-file';
  /** Where the key lives when it is a file, for the startup banner. */
  path?: string;
}

/** Accepts base64url, base64 or hex of exactly 32 bytes. */
export function parseEncryptionKey(text: string, variable = 'TWOFOLD_ENCRYPTION_KEY'): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64url');
  if (key.length !== encryptionKeyBytes || !/^[A-Za-z0-9+/_=-]+$/.test(trimmed)) {
    throw new ConfigError(variable, `expected ${encryptionKeyBytes} bytes as base64 or hex, e.g. \`openssl rand -base64 32\``);
  }
  return key;
}

export function resolveEncryptionKey(config: Pick<TwofoldConfig, 'encryptionKey' | 'dataDir' | 'mode'>): ResolvedEncryptionKey {
  if (config.encryptionKey !== undefined) {
    return { key: parseEncryptionKey(config.encryptionKey), source: 'environment' };
  }
  if (config.mode === 'production') {
    throw new ConfigError('TWOFOLD_ENCRYPTION_KEY', 'production mode refuses a generated encryption key');
  }
  const path = join(config.dataDir, encryptionKeyFileName);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, `${randomBytes(encryptionKeyBytes).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  try {
    linkSync(temporary, path);
    return { key: readKeyFile(path), source: 'generated-file', path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  // Someone widened the permissions since; a world-readable root secret is worse than a chmod.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return { key: readKeyFile(path), source: 'existing-file', path };
}

function readKeyFile(path: string): Buffer {
  return parseEncryptionKey(readFileSync(path, 'utf8'), path);
}
