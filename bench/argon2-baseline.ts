// The physical limit of a login: one argon2id verification. Measured in this process at the
// server's parameters and concurrency, in the same run as the flows it is the baseline for.
import { hash, verify } from '@node-rs/argon2';
import { defaultArgon2Parameters } from '../src/config/schema.js';

export async function measureArgon2Verifies(options: { concurrency: number; durationMs: number }): Promise<number> {
  const parameters = { algorithm: 2, memoryCost: defaultArgon2Parameters.memoryKib, timeCost: defaultArgon2Parameters.timeCost, parallelism: defaultArgon2Parameters.parallelism };
  const stored = await hash('a benchmark passphrase', parameters);
  let done = 0;
  const deadline = Date.now() + options.durationMs;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (Date.now() < deadline) {
        await verify(stored, 'a benchmark passphrase');
        done += 1;
      }
    }),
  );
  return done / ((Date.now() - started) / 1000);
}
