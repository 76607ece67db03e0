// argon2id password hashing (@node-rs/argon2, off the event loop) behind a work limiter.
// - Parameters default to OWASP's m=19 MiB, t=2, p=1; a stored hash with other parameters is
//   reported by `needsRehash` so login can upgrade it transparently.
// - A stored hash that is not argon2id was imported from another system (imported/): it is
//   verified by its own scheme, within the caps, and `needsRehash` reports it, so the first
//   sign-in replaces it with argon2id.
// - `verifyAgainstDummy` burns one verify for an unknown username, so the time a login takes
//   does not reveal whether the account exists (LG-01..03).
import { hash, verify } from '@node-rs/argon2';
import { WorkLimiterFullError, type WorkLimiter } from '../concurrency/work-limiter.js';
import { verifyImportedHash } from './imported/verify-imported-hash.js';

export interface Argon2Parameters {
  memoryKib: number;
  timeCost: number;
  parallelism: number;
}

/** `Algorithm.Argon2id` of @node-rs/argon2 (a const enum, which isolated modules cannot import). */
const argon2idAlgorithm = 2;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(storedHash: string, password: string): Promise<boolean>;
  verifyAgainstDummy(password: string): Promise<false>;
  needsRehash(storedHash: string): boolean;
}

export type PasswordHashOperation = 'hash' | 'verify';

/**
 * Told about every hash and verify (metrics). Waiting for a slot and computing are reported apart:
 * a growing wait means the limiter is the bottleneck, a growing compute time the CPU.
 */
export interface PasswordHashObserver {
  observe(operation: PasswordHashOperation, waitSeconds: number, computeSeconds: number): void;
  /** The limiter's queue was full: the caller answers 503 server_busy. */
  refused(operation: PasswordHashOperation): void;
}

export function createPasswordHasher(parameters: Argon2Parameters, limiter: WorkLimiter, observer?: PasswordHashObserver): PasswordHasher {
  const options = {
    algorithm: argon2idAlgorithm,
    memoryCost: parameters.memoryKib,
    timeCost: parameters.timeCost,
    parallelism: parameters.parallelism,
  };
  const limit = observer === undefined ? <T>(_operation: PasswordHashOperation, work: () => Promise<T>) => limiter.run(work) : observedLimit(limiter, observer);
  const computeHash = (password: string): Promise<string> => limit('hash', () => hash(password, options));
  // A corrupt stored hash is a failed login, not a crash.
  const hasCurrentParameters = (storedHash: string): boolean => {
    const stored = parseArgon2Parameters(storedHash);
    return stored !== undefined && stored.memoryKib === parameters.memoryKib && stored.timeCost === parameters.timeCost && stored.parallelism === parameters.parallelism;
  };
  // Any other hash — imported, or argon2id with other parameters — is checked within the import
  // cost caps first (AD-03): a planted hash costing minutes is refused, not computed.
  const checkHash = (storedHash: string, password: string): Promise<boolean> =>
    limit('verify', () => (hasCurrentParameters(storedHash) ? verify(storedHash, password).catch(() => false) : verifyImportedHash(storedHash, password)));
  // Made at start-up, so that even the first unknown-user login costs exactly one verify.
  const dummyHash = computeHash('twofold dummy password for unknown usernames');
  dummyHash.catch(() => undefined); // a failure surfaces at the first use, not as an unhandled rejection

  return {
    hash: computeHash,
    verify: checkHash,
    async verifyAgainstDummy(password) {
      await checkHash(await dummyHash, password);
      return false;
    },
    needsRehash(storedHash) {
      return !hasCurrentParameters(storedHash);
    },
  };
}

/** Runs work through the limiter, timing the wait for a slot and the work itself (monotonic clock). */
function observedLimit(limiter: WorkLimiter, observer: PasswordHashObserver) {
  return async <T>(operation: PasswordHashOperation, work: () => Promise<T>): Promise<T> => {
    const askedAt = performance.now();
    try {
      return await limiter.run(async () => {
        const startedAt = performance.now();
        try {
          return await work();
        } finally {
          observer.observe(operation, (startedAt - askedAt) / 1000, (performance.now() - startedAt) / 1000);
        }
      });
    } catch (error) {
      if (error instanceof WorkLimiterFullError) observer.refused(operation);
      throw error;
    }
  };
}

/** Reads m, t, p from a PHC string like `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`. */
export function parseArgon2Parameters(phc: string): Argon2Parameters | undefined {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
  if (match === null) return undefined;
  return { memoryKib: Number(match[1]), timeCost: Number(match[2]), parallelism: Number(match[3]) };
}
