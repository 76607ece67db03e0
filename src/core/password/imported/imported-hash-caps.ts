// AD-03: the most work one imported hash may cost a sign-in. A hash beyond these bounds is refused
// when the file is imported (with the reason in the report), and — should such a row reach the
// database some other way — is never computed at sign-in either (the verify fails at once).
// The bounds sit above what the systems Twofold imports from write by default (bcrypt 10–12,
// Better Auth scrypt N=16384 r=16, Keycloak PBKDF2 27,500–210,000, Keycloak argon2 m=7 MiB t=5)
// and far below what would hold a hashing thread for seconds.
import type { ImportedHash } from './imported-hash.js';

export const importedHashCaps = {
  bcryptMaxCost: 14,
  bcryptMinCost: 4,
  /** 2^17; scrypt N must also be a power of two. */
  scryptMaxN: 131_072,
  scryptMaxR: 32,
  scryptMaxP: 16,
  /** 128·N·r bytes: the memory one scrypt verify allocates. */
  scryptMaxMemoryBytes: 64 * 1024 * 1024,
  /** N·r·p, proportional to the time one verify takes (Better Auth's default is 2^18). */
  scryptMaxWork: 4_194_304,
  pbkdf2MaxIterations: 1_000_000,
  argon2MaxMemoryKib: 131_072,
  argon2MaxTimeCost: 16,
  argon2MaxParallelism: 16,
  minSaltBytes: 8,
  maxSaltBytes: 256,
  minKeyBytes: 16,
  maxKeyBytes: 256,
} as const;

/** Why this hash would cost too much (or is degenerate); undefined when it is within bounds. */
export function importedHashCostRefusal(hash: ImportedHash): string | undefined {
  const caps = importedHashCaps;
  switch (hash.scheme) {
    case 'bcrypt':
      if (hash.cost > caps.bcryptMaxCost || hash.cost < caps.bcryptMinCost) return `bcrypt cost ${hash.cost} is outside ${caps.bcryptMinCost}..${caps.bcryptMaxCost}`;
      return undefined;
    case 'argon2':
      if (hash.memoryKib > caps.argon2MaxMemoryKib) return `argon2 memory ${hash.memoryKib} KiB is above ${caps.argon2MaxMemoryKib} KiB`;
      if (hash.timeCost > caps.argon2MaxTimeCost || hash.timeCost < 1) return `argon2 time cost ${hash.timeCost} is outside 1..${caps.argon2MaxTimeCost}`;
      if (hash.parallelism > caps.argon2MaxParallelism || hash.parallelism < 1) return `argon2 parallelism ${hash.parallelism} is outside 1..${caps.argon2MaxParallelism}`;
      return undefined;
    case 'scrypt': {
      if (hash.n < 2 || hash.n > caps.scryptMaxN || (hash.n & (hash.n - 1)) !== 0) return `scrypt N ${hash.n} is not a power of two up to ${caps.scryptMaxN}`;
      if (hash.r < 1 || hash.r > caps.scryptMaxR) return `scrypt r ${hash.r} is outside 1..${caps.scryptMaxR}`;
      if (hash.p < 1 || hash.p > caps.scryptMaxP) return `scrypt p ${hash.p} is outside 1..${caps.scryptMaxP}`;
      if (128 * hash.n * hash.r > caps.scryptMaxMemoryBytes) return `scrypt N·r needs more than ${caps.scryptMaxMemoryBytes / 1024 / 1024} MiB`;
      if (hash.n * hash.r * hash.p > caps.scryptMaxWork) return `scrypt N·r·p ${hash.n * hash.r * hash.p} is above ${caps.scryptMaxWork}`;
      return saltAndKeyRefusal(hash.salt, hash.key);
    }
    case 'pbkdf2':
      if (hash.iterations < 1 || hash.iterations > caps.pbkdf2MaxIterations) return `PBKDF2 iterations ${hash.iterations} are outside 1..${caps.pbkdf2MaxIterations}`;
      return saltAndKeyRefusal(hash.salt, hash.key);
  }
}

function saltAndKeyRefusal(salt: Buffer, key: Buffer): string | undefined {
  const caps = importedHashCaps;
  if (salt.length < caps.minSaltBytes || salt.length > caps.maxSaltBytes) return `salt of ${salt.length} bytes is outside ${caps.minSaltBytes}..${caps.maxSaltBytes}`;
  if (key.length < caps.minKeyBytes || key.length > caps.maxKeyBytes) return `derived key of ${key.length} bytes is outside ${caps.minKeyBytes}..${caps.maxKeyBytes}`;
  return undefined;
}
