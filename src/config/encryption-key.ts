// The root secret: it encrypts TOTP secrets, private signing keys and the server pepper.
// Production passes it in TWOFOLD_ENCRYPTION_KEY; development generates one into the data dir
// (mode 0600). The key is written to a private temporary file and then hard-linked into place:
// the link either creates the complete file or fails because another instance won, so two
// instances starting together agree on one key and neither ever reads a half-written file.
// After a rotation the keys rotated away from still open (never seal) what they sealed, until
// `twofold keys rotate-encryption` has re-sealed it: TWOFOLD_PREVIOUS_ENCRYPTION_KEYS, and in
// development also the file encryption.previous-keys beside the key file (one key per line).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';
import type { TwofoldConfig } from './schema.js';

export const encryptionKeyBytes = 32;
export const encryptionKeyFileName = 'encryption.key';
export const previousEncryptionKeysFileName = 'encryption.previous-keys';
export const previousEncryptionKeysVariable = 'TWOFOLD_PREVIOUS_ENCRYPTION_KEYS';

export interface ResolvedEncryptionKey {
  key: Buffer;
  source: 'environment' | 'generated-file' | 'existing-file';
  /** Where the key lives when it is a file, for the startup banner. */
  path?: string;
  /** Keys that only open, from TWOFOLD_PREVIOUS_ENCRYPTION_KEYS and (development) the previous-keys file. */
  previousKeys: Buffer[];
  /** The development file of previous keys, when one was read. */
  previousKeysPath?: string;
}

type EncryptionKeyConfig = Pick<TwofoldConfig, 'encryptionKey' | 'dataDir' | 'mode'> & Partial<Pick<TwofoldConfig, 'previousEncryptionKeys'>>;

const keyFormatHint = `expected ${encryptionKeyBytes} bytes as base64 or hex, e.g. \`openssl rand -base64 32\``;

/** Accepts base64url, base64 or hex of exactly 32 bytes. */
export function parseEncryptionKey(text: string, variable = 'TWOFOLD_ENCRYPTION_KEY'): Buffer {
  const key = decodeEncryptionKey(text);
  if (key === undefined) throw new ConfigError(variable, keyFormatHint);
  return key;
}

function decodeEncryptionKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64url');
  return key.length === encryptionKeyBytes && /^[A-Za-z0-9+/_=-]+$/.test(trimmed) ? key : undefined;
}

export function resolveEncryptionKey(config: EncryptionKeyConfig): ResolvedEncryptionKey {
  const current = resolveCurrentEncryptionKey(config);
  const fromEnvironment = parsePreviousEncryptionKeys(config.previousEncryptionKeys ?? [], current.key);
  if (current.path === undefined) return { ...current, previousKeys: fromEnvironment };
  const previousKeysPath = join(config.dataDir, previousEncryptionKeysFileName);
  if (!existsSync(previousKeysPath)) return { ...current, previousKeys: fromEnvironment };
  const fromFile = readPreviousKeysFile(previousKeysPath, current.key);
  return { ...current, previousKeys: uniqueKeys([...fromEnvironment, ...fromFile]), previousKeysPath };
}

/**
 * The entries of TWOFOLD_PREVIOUS_ENCRYPTION_KEYS. Errors name the entry by position, never by
 * value. The current key among them is refused: it is a sign that the rotation was set up wrong
 * (the old key forgotten, or the new one put in both places).
 */
export function parsePreviousEncryptionKeys(entries: readonly string[], currentKey: Buffer): Buffer[] {
  const keys: Buffer[] = [];
  entries.forEach((entry, index) => {
    const position = `entry ${index + 1} of ${entries.length}`;
    const key = decodeEncryptionKey(entry);
    if (key === undefined) throw new ConfigError(previousEncryptionKeysVariable, `${position}: ${keyFormatHint}`);
    if (key.equals(currentKey)) {
      throw new ConfigError(previousEncryptionKeysVariable, `${position} is the current TWOFOLD_ENCRYPTION_KEY; list only the keys rotated away from`);
    }
    if (keys.some((other) => other.equals(key))) throw new ConfigError(previousEncryptionKeysVariable, `${position} repeats an earlier entry`);
    keys.push(key);
  });
  return keys;
}

function resolveCurrentEncryptionKey(config: EncryptionKeyConfig): Omit<ResolvedEncryptionKey, 'previousKeys'> {
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

/**
 * One key per line; blank lines and `#` comments are skipped. The current key is skipped too:
 * `keys rotate-encryption --generate` appends the old key before it replaces the key file, so a
 * crash between the two writes leaves the current key listed here — harmless, not an error.
 */
function readPreviousKeysFile(path: string, currentKey: Buffer): Buffer[] {
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const lines = readFileSync(path, 'utf8').split('\n');
  const keys: Buffer[] = [];
  lines.forEach((line, index) => {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) return;
    const key = parseEncryptionKey(text, `${path} line ${index + 1}`);
    if (!key.equals(currentKey)) keys.push(key);
  });
  return uniqueKeys(keys);
}

function uniqueKeys(keys: Buffer[]): Buffer[] {
  return keys.filter((key, index) => keys.findIndex((other) => other.equals(key)) === index);
}
