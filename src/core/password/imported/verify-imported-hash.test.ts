// Each imported scheme against hashes made by the reference implementations: bcrypt by
// @node-rs/bcrypt and pgcrypto's format, scrypt by Better Auth's own hashPassword, PBKDF2 by
// node:crypto as Keycloak and Auth0 compute it, argon2i/argon2id by @node-rs/argon2.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { hashPassword as betterAuthHashPassword } from '@better-auth/utils/password';
import { describe, expect, it } from 'vitest';
import { importedHashCostRefusal } from './imported-hash-caps.js';
import { formatPbkdf2Hash, formatScryptHash, parseImportedHash } from './imported-hash.js';
import { verifyImportedHash } from './verify-imported-hash.js';

const password = 'correct horse battery staple';

describe('verifyImportedHash()', () => {
  it('AD-03: bcrypt $2a$, $2b$ and $2y$ hashes verify the right password only', async () => {
    const made = await bcryptHash(password, 4);
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const stored = prefix + made.slice(4);
      expect(await verifyImportedHash(stored, password)).toBe(true);
      expect(await verifyImportedHash(stored, `${password}!`)).toBe(false);
    }
  });

  it('AD-03: Better Auth scrypt hashes (its own hashPassword) verify once converted to $scrypt$', async () => {
    const [salt, key] = (await betterAuthHashPassword(password)).split(':') as [string, string];
    const stored = formatScryptHash({ n: 16384, r: 16, p: 1 }, Buffer.from(salt, 'utf8'), Buffer.from(key, 'hex'));
    expect(await verifyImportedHash(stored, password)).toBe(true);
    expect(await verifyImportedHash(stored, 'Correct horse battery staple')).toBe(false);
  });

  it('AD-03: PBKDF2 with SHA-1, SHA-256 and SHA-512 verifies as Keycloak and Auth0 compute it', async () => {
    for (const digest of ['sha1', 'sha256', 'sha512'] as const) {
      const salt = randomBytes(16);
      const stored = formatPbkdf2Hash(digest, 1000, salt, pbkdf2Sync(password, salt, 1000, 64, digest));
      expect(await verifyImportedHash(stored, password)).toBe(true);
      expect(await verifyImportedHash(stored, 'wrong password entirely')).toBe(false);
    }
  });

  it('AD-03: Auth0\'s PHC PBKDF2 string (padding-free base64, l= key length) is read as it is written', async () => {
    const salt = randomBytes(16);
    const key = pbkdf2Sync(password, salt, 1000, 32, 'sha256');
    const stored = `$pbkdf2-sha256$i=1000,l=32$${salt.toString('base64').replace(/=+$/, '')}$${key.toString('base64').replace(/=+$/, '')}`;
    expect(await verifyImportedHash(stored, password)).toBe(true);
    // A declared length that disagrees with the key is refused as unreadable.
    expect(parseImportedHash(stored.replace('l=32', 'l=64'))).toBeUndefined();
  });

  it('AD-03: argon2i and argon2id PHC strings verify', async () => {
    for (const algorithm of [1, 2]) {
      const stored = await argon2Hash(password, { algorithm, memoryCost: 1024, timeCost: 1 });
      expect(await verifyImportedHash(stored, password)).toBe(true);
      expect(await verifyImportedHash(stored, 'not the password')).toBe(false);
    }
  });

  it('AD-03: unreadable hashes and the no-password sentinel never verify and never throw', async () => {
    for (const stored of ['', '!no-password', '$2b$10$short', '$scrypt$n=16384,r=16,p=1$$', '$md5$abc', 'x'.repeat(5000)]) {
      expect(await verifyImportedHash(stored, password)).toBe(false);
    }
  });

  it('AD-03: a hash beyond the caps is refused without being computed (fast)', async () => {
    const salt = randomBytes(16);
    const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
    const absurd = [
      `$2b$31$${'a'.repeat(53)}`,
      formatScryptHash({ n: 2 ** 30, r: 8, p: 1 }, salt, randomBytes(32)),
      formatScryptHash({ n: 16384, r: 16, p: 4096 }, salt, randomBytes(32)),
      formatPbkdf2Hash('sha512', 2_000_000_000, salt, randomBytes(64)),
      `$argon2id$v=19$m=4194304,t=3,p=1$${b64(salt)}$${b64(randomBytes(32))}`,
      `$argon2id$v=19$m=19456,t=100000,p=1$${b64(salt)}$${b64(randomBytes(32))}`,
    ];
    for (const stored of absurd) {
      const parsed = parseImportedHash(stored);
      expect(parsed, stored).toBeDefined();
      expect(importedHashCostRefusal(parsed!), stored).toEqual(expect.any(String));
      const startedAt = performance.now();
      expect(await verifyImportedHash(stored, password)).toBe(false);
      expect(performance.now() - startedAt).toBeLessThan(50);
    }
  });
});
