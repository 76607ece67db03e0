import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  encryptionKeyBytes,
  encryptionKeyFileName,
  parseEncryptionKey,
  parsePreviousEncryptionKeys,
  previousEncryptionKeysFileName,
  resolveEncryptionKey,
} from './encryption-key.js';
import { ConfigError } from './load.js';

let tempRoot: string;
let dataDir: string;

beforeEach(() => {
  tempRoot = mkdtempSync(join(tmpdir(), 'twofold-encryption-key-'));
  // A data dir that does not exist yet, as on a first start.
  dataDir = join(tempRoot, 'data');
});

afterEach(() => {
  rmSync(tempRoot, { recursive: true, force: true });
});

const permissions = (path: string): number => statSync(path).mode & 0o777;
const sampleKey = Buffer.from(Array.from({ length: 32 }, (_, index) => (index * 37 + 251) % 256));

function configErrorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.fail('expected a ConfigError');
}

describe('resolveEncryptionKey()', () => {
  it('generates <dataDir>/encryption.key with mode 0600 on the first call', () => {
    const resolved = resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    const path = join(dataDir, encryptionKeyFileName);
    expect(resolved.source).toBe('generated-file');
    expect(resolved.path).toBe(path);
    expect(resolved.key).toHaveLength(encryptionKeyBytes);
    expect(permissions(path)).toBe(0o600);
    expect(permissions(dataDir)).toBe(0o700);
    expect(readFileSync(path, 'utf8').trim()).toBe(resolved.key.toString('base64url'));
  });

  it('reuses the existing file on the second call (same key)', () => {
    const first = resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    const second = resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    expect(second.source).toBe('existing-file');
    expect(second.path).toBe(first.path);
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('leaves no temporary file behind', () => {
    resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    expect(readdirSync(dataDir)).toEqual([encryptionKeyFileName]);
  });

  it('six processes starting together on one data dir all end up with the same key', async () => {
    // The compiled module (built by the test global setup), so each process is a plain node.
    const script = `import('${join(process.cwd(), 'dist/config/encryption-key.js')}').then((m) => process.stdout.write(m.resolveEncryptionKey({ dataDir: ${JSON.stringify(dataDir)}, mode: 'development' }).key.toString('hex')))`;
    const keys = await Promise.all(
      Array.from({ length: 6 }, () => new Promise<string>((resolve, reject) => execFile(process.execPath, ['-e', script], (error, stdout) => (error ? reject(error) : resolve(stdout))))),
    );
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(dataDir)).toEqual([encryptionKeyFileName]);
  });

  it('generates a different key in another data dir', () => {
    const first = resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    const other = resolveEncryptionKey({ encryptionKey: undefined, dataDir: join(tempRoot, 'other'), mode: 'test' });
    expect(other.source).toBe('generated-file');
    expect(other.key.equals(first.key)).toBe(false);
  });

  it('repairs a key file widened to 0644 back to 0600 and keeps the key', () => {
    const first = resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    chmodSync(first.path!, 0o644);
    expect(permissions(first.path!)).toBe(0o644);
    const second = resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    expect(second.source).toBe('existing-file');
    expect(second.key.equals(first.key)).toBe(true);
    expect(permissions(first.path!)).toBe(0o600);
  });

  it('reads a key file written by hand (hex) and refuses a corrupt one naming the file', () => {
    resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    const path = join(dataDir, encryptionKeyFileName);
    writeFileSync(path, `${sampleKey.toString('hex')}\n`, { mode: 0o600 });
    expect(resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' }).key.equals(sampleKey)).toBe(true);
    writeFileSync(path, 'too short\n', { mode: 0o600 });
    const error = configErrorOf(() => resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' }));
    expect(error.variable).toBe(path);
  });

  it('takes TWOFOLD_ENCRYPTION_KEY from the config when given, without touching the data dir', () => {
    const resolved = resolveEncryptionKey({ encryptionKey: sampleKey.toString('base64'), dataDir, mode: 'development' });
    expect(resolved.source).toBe('environment');
    expect(resolved.key.equals(sampleKey)).toBe(true);
    expect(resolved.path).toBeUndefined();
    expect(existsSync(dataDir)).toBe(false);
  });

  it('takes the configured key in production mode', () => {
    const resolved = resolveEncryptionKey({ encryptionKey: sampleKey.toString('base64url'), dataDir, mode: 'production' });
    expect(resolved.source).toBe('environment');
    expect(resolved.key.equals(sampleKey)).toBe(true);
  });

  it('refuses to generate a key in production mode, and writes no file', () => {
    const error = configErrorOf(() => resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'production' }));
    expect(error.variable).toBe('TWOFOLD_ENCRYPTION_KEY');
    expect(existsSync(join(dataDir, encryptionKeyFileName))).toBe(false);
  });

  it('refuses, in production, even an existing key file', () => {
    resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    expect(configErrorOf(() => resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'production' })).variable).toBe(
      'TWOFOLD_ENCRYPTION_KEY',
    );
  });

  it('refuses a configured key of the wrong length with a ConfigError', () => {
    const error = configErrorOf(() =>
      resolveEncryptionKey({ encryptionKey: Buffer.alloc(16, 1).toString('base64'), dataDir, mode: 'development' }),
    );
    expect(error.variable).toBe('TWOFOLD_ENCRYPTION_KEY');
  });
});

describe('resolveEncryptionKey(): previous keys', () => {
  const otherKey = Buffer.alloc(32, 7);
  const thirdKey = Buffer.alloc(32, 9);

  it('adds TWOFOLD_PREVIOUS_ENCRYPTION_KEYS, in order, in any accepted format', () => {
    const resolved = resolveEncryptionKey({
      encryptionKey: sampleKey.toString('base64'),
      previousEncryptionKeys: [otherKey.toString('hex'), thirdKey.toString('base64url')],
      dataDir,
      mode: 'production',
    });
    expect(resolved.key.equals(sampleKey)).toBe(true);
    expect(resolved.previousKeys.map((key) => key.toString('hex'))).toEqual([otherKey.toString('hex'), thirdKey.toString('hex')]);
    expect(resolved.previousKeysPath).toBeUndefined();
  });

  it('has no previous keys when none are configured', () => {
    expect(resolveEncryptionKey({ encryptionKey: sampleKey.toString('base64'), dataDir, mode: 'development' }).previousKeys).toEqual([]);
  });

  it('refuses a malformed entry with a ConfigError naming the variable and the entry, never its value', () => {
    const error = configErrorOf(() =>
      resolveEncryptionKey({ encryptionKey: sampleKey.toString('base64'), previousEncryptionKeys: [otherKey.toString('base64'), 'not-a-key-at-all'], dataDir, mode: 'development' }),
    );
    expect(error.variable).toBe('TWOFOLD_PREVIOUS_ENCRYPTION_KEYS');
    expect(error.message).toContain('entry 2 of 2');
    expect(error.message).not.toContain('not-a-key-at-all');
    expect(error.message).not.toContain(otherKey.toString('base64'));
  });

  it('refuses the current key among the previous ones', () => {
    const error = configErrorOf(() => parsePreviousEncryptionKeys([sampleKey.toString('hex')], sampleKey));
    expect(error.variable).toBe('TWOFOLD_PREVIOUS_ENCRYPTION_KEYS');
    expect(error.message).toContain('is the current TWOFOLD_ENCRYPTION_KEY');
  });

  it('refuses a key listed twice', () => {
    const error = configErrorOf(() => parsePreviousEncryptionKeys([otherKey.toString('hex'), otherKey.toString('base64')], sampleKey));
    expect(error.message).toContain('entry 2 of 2 repeats');
  });

  it('in development with the generated key file, also reads encryption.previous-keys (0600, one key per line)', () => {
    const current = resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' }).key;
    const path = join(dataDir, previousEncryptionKeysFileName);
    writeFileSync(path, `# keys rotated away from\n${otherKey.toString('base64url')}\n\n${current.toString('base64url')}\n${thirdKey.toString('hex')}\n`, { mode: 0o644 });
    chmodSync(path, 0o644);
    const resolved = resolveEncryptionKey({ encryptionKey: undefined, previousEncryptionKeys: [otherKey.toString('hex')], dataDir, mode: 'development' });
    // The current key in the file (a rotation interrupted between its two writes) is skipped, and
    // a key given both ways counts once.
    expect(resolved.previousKeys.map((key) => key.toString('hex'))).toEqual([otherKey.toString('hex'), thirdKey.toString('hex')]);
    expect(resolved.previousKeysPath).toBe(path);
    expect(permissions(path)).toBe(0o600);
  });

  it('names the file and line of a malformed previous key', () => {
    resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    const path = join(dataDir, previousEncryptionKeysFileName);
    writeFileSync(path, `${otherKey.toString('base64url')}\nbroken\n`, { mode: 0o600 });
    expect(configErrorOf(() => resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' })).variable).toBe(`${path} line 2`);
  });

  it('ignores the previous-keys file when the key comes from TWOFOLD_ENCRYPTION_KEY', () => {
    resolveEncryptionKey({ encryptionKey: undefined, dataDir, mode: 'development' });
    writeFileSync(join(dataDir, previousEncryptionKeysFileName), `${otherKey.toString('base64url')}\n`, { mode: 0o600 });
    const resolved = resolveEncryptionKey({ encryptionKey: sampleKey.toString('base64'), dataDir, mode: 'development' });
    expect(resolved.previousKeys).toEqual([]);
  });
});

describe('parseEncryptionKey()', () => {
  it('accepts standard base64 with padding (openssl rand -base64 32)', () => {
    const text = sampleKey.toString('base64');
    expect(text).toMatch(/[+/]/);
    expect(text.endsWith('=')).toBe(true);
    expect(parseEncryptionKey(text).equals(sampleKey)).toBe(true);
  });

  it('accepts base64url without padding', () => {
    const text = sampleKey.toString('base64url');
    expect(text).toMatch(/[-_]/);
    expect(parseEncryptionKey(text).equals(sampleKey)).toBe(true);
  });

  it('accepts 64 hex digits in either case', () => {
    expect(parseEncryptionKey(sampleKey.toString('hex')).equals(sampleKey)).toBe(true);
    expect(parseEncryptionKey(sampleKey.toString('hex').toUpperCase()).equals(sampleKey)).toBe(true);
  });

  it('ignores surrounding white space (a trailing newline in a file or variable)', () => {
    expect(parseEncryptionKey(`  ${sampleKey.toString('base64')}\n`).equals(sampleKey)).toBe(true);
  });

  it.each([
    ['16 bytes of base64', Buffer.alloc(16, 1).toString('base64')],
    ['31 bytes of base64url', Buffer.alloc(31, 1).toString('base64url')],
    ['33 bytes of base64url', Buffer.alloc(33, 1).toString('base64url')],
    ['63 hex digits', 'a'.repeat(63)],
    ['65 hex digits', 'a'.repeat(65)],
    ['invalid characters', `${sampleKey.toString('base64url').slice(0, 40)}!!!`],
    ['inner white space', `${sampleKey.toString('base64').slice(0, 20)} ${sampleKey.toString('base64').slice(20)}`],
    ['empty', ''],
  ])('refuses %s with a ConfigError naming the variable', (_label, text) => {
    const error = configErrorOf(() => parseEncryptionKey(text));
    expect(error.variable).toBe('TWOFOLD_ENCRYPTION_KEY');
    expect(error.message).not.toContain(text.trim() || '\u0000');
  });

  it('names another variable or file when asked to', () => {
    expect(configErrorOf(() => parseEncryptionKey('short', '/data/encryption.key')).variable).toBe('/data/encryption.key');
  });
});
