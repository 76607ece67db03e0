// The "no password" sentinel (PW-17): nothing anyone types can match it.
import { describe, expect, it } from 'vitest';
import { createWorkLimiter } from '../concurrency/work-limiter.js';
import { createPasswordHasher } from './hasher.js';
import { hasPassword, noPasswordHash } from './no-password.js';

const hasher = createPasswordHasher({ memoryKib: 1024, timeCost: 1, parallelism: 1 }, createWorkLimiter({ maxInFlight: 2, maxQueued: 10 }));

describe('noPasswordHash', () => {
  it('PW-17: is no PHC string, so argon2 verify matches no input against it — itself, empty, or anything else', async () => {
    expect(noPasswordHash.startsWith('$')).toBe(false);
    for (const input of [noPasswordHash, '', 'null', 'correct horse battery staple']) expect(await hasher.verify(noPasswordHash, input)).toBe(false);
  });

  it('PW-17: hasPassword() tells it from every real hash', async () => {
    expect(hasPassword({ password_hash: noPasswordHash })).toBe(false);
    expect(hasPassword({ password_hash: await hasher.hash(noPasswordHash) })).toBe(true);
  });
});
