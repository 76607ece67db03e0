// Checks a password against an imported hash (imported-hash.ts). Called by the password hasher
// for every stored hash that is not Twofold's own argon2id, inside the same work limiter, so an
// imported hash costs a sign-in one slot like any other verify. The login flow then sees
// `needsRehash` and stores argon2id in the same step: each imported hash is computed at most once
// per person. scrypt and PBKDF2 run on the libuv threadpool (node:crypto, async), bcrypt and argon2
// on their native libraries' threads; derived keys are compared in constant time.
import { pbkdf2, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { verify as verifyArgon2 } from '@node-rs/argon2';
import { verify as verifyBcrypt } from '@node-rs/bcrypt';
import { importedHashCostRefusal } from './imported-hash-caps.js';
import { parseImportedHash, type ImportedHash } from './imported-hash.js';

const pbkdf2Async = promisify(pbkdf2);

/** True when `password` matches; false for a wrong password, an unreadable hash, or one beyond the caps. */
export async function verifyImportedHash(stored: string, password: string): Promise<boolean> {
  const hash = parseImportedHash(stored);
  if (hash === undefined || importedHashCostRefusal(hash) !== undefined) return false;
  try {
    return await verifyParsed(hash, password);
  } catch {
    // A hash the library cannot read is a failed sign-in, never a crash.
    return false;
  }
}

async function verifyParsed(hash: ImportedHash, password: string): Promise<boolean> {
  switch (hash.scheme) {
    case 'bcrypt':
      return verifyBcrypt(password, hash.encoded);
    case 'argon2':
      return verifyArgon2(hash.encoded, password);
    case 'scrypt': {
      const derived = await scryptKey(password, hash);
      return timingSafeEqual(derived, hash.key);
    }
    case 'pbkdf2': {
      const derived = await pbkdf2Async(password, hash.salt, hash.iterations, hash.key.length, hash.digest);
      return timingSafeEqual(derived, hash.key);
    }
  }
}

function scryptKey(password: string, hash: Extract<ImportedHash, { scheme: 'scrypt' }>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem above 128·N·r (node's default would refuse Better Auth's own N=16384, r=16); the caps bound it.
    scrypt(password, hash.salt, hash.key.length, { N: hash.n, r: hash.r, p: hash.p, maxmem: 256 * hash.n * hash.r + 1024 * 1024 }, (error, key) => (error === null ? resolve(key) : reject(error)));
  });
}
