import { describe, expect, it } from 'vitest';
import { createWorkLimiter } from '../concurrency/work-limiter.js';
import { createPasswordHasher, parseArgon2Parameters, type Argon2Parameters } from './hasher.js';

// Cheap parameters keep the suite fast; the production defaults are checked in config tests.
const cheap: Argon2Parameters = { memoryKib: 1024, timeCost: 1, parallelism: 1 };

function newHasher(parameters: Argon2Parameters = cheap) {
  return createPasswordHasher(parameters, createWorkLimiter({ maxInFlight: 2, maxQueued: 10 }));
}

describe('createPasswordHasher()', () => {
  it('hash() then verify() with the same password is true', async () => {
    const hasher = newHasher();
    const stored = await hasher.hash('purple monkey dishwasher');
    expect(await hasher.verify(stored, 'purple monkey dishwasher')).toBe(true);
  });

  it('verify() with a wrong password is false', async () => {
    const hasher = newHasher();
    const stored = await hasher.hash('purple monkey dishwasher');
    expect(await hasher.verify(stored, 'purple monkey dishwasheR')).toBe(false);
    expect(await hasher.verify(stored, '')).toBe(false);
  });

  it('PW-02: verify() never truncates: the first 72 characters of a 100-character password do not verify', async () => {
    const hasher = newHasher();
    const password = 'correct horse battery staple '.repeat(4).slice(0, 100);
    const stored = await hasher.hash(password);
    expect(await hasher.verify(stored, password)).toBe(true);
    expect(await hasher.verify(stored, password.slice(0, 72))).toBe(false);
  });

  it('round-trips an emoji passphrase (PW-03)', async () => {
    const hasher = newHasher();
    const stored = await hasher.hash('🦊🌲 fox in the forest 🌙');
    expect(await hasher.verify(stored, '🦊🌲 fox in the forest 🌙')).toBe(true);
    expect(await hasher.verify(stored, '🦊🌲 fox in the forest 🌚')).toBe(false);
  });

  it.each([['not a hash'], [''], ['$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$AAAA'], ['$argon2id$v=19$m=1024,t=1,p=1$!!!$!!!']])(
    'verify() against the corrupt stored hash %j resolves false instead of throwing',
    async (corrupt) => {
      const hasher = newHasher();
      await expect(hasher.verify(corrupt, 'purple monkey dishwasher')).resolves.toBe(false);
    },
  );

  it('verify() against a hash with one changed character is false', async () => {
    const hasher = newHasher();
    const stored = await hasher.hash('purple monkey dishwasher');
    const last = stored.at(-1) === 'A' ? 'B' : 'A';
    await expect(hasher.verify(`${stored.slice(0, -1)}${last}`, 'purple monkey dishwasher')).resolves.toBe(false);
  });

  it('PW-08: a hash is an argon2id PHC string with the configured parameters and a salt', async () => {
    const hasher = newHasher();
    const stored = await hasher.hash('purple monkey dishwasher');
    const match = /^\$argon2id\$v=19\$m=1024,t=1,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(stored);
    expect(match).not.toBeNull();
    // A salt of at least 16 bytes is at least 22 unpadded base64 characters.
    expect(match![1]!.length).toBeGreaterThanOrEqual(22);
    expect(stored).not.toContain('purple');
  });

  it('PW-08: two hashes of the same password differ (fresh salt each time) and both verify', async () => {
    const hasher = newHasher();
    const first = await hasher.hash('purple monkey dishwasher');
    const second = await hasher.hash('purple monkey dishwasher');
    expect(first).not.toBe(second);
    expect(first.split('$')[4]).not.toBe(second.split('$')[4]);
    expect(await hasher.verify(first, 'purple monkey dishwasher')).toBe(true);
    expect(await hasher.verify(second, 'purple monkey dishwasher')).toBe(true);
  });

  it('needsRehash() is false for a hash made with the same parameters', async () => {
    const hasher = newHasher();
    expect(hasher.needsRehash(await hasher.hash('purple monkey dishwasher'))).toBe(false);
  });

  it('needsRehash() is true when memory, time or parallelism differ', async () => {
    const stored = await newHasher().hash('purple monkey dishwasher');
    expect(newHasher({ ...cheap, memoryKib: 2048 }).needsRehash(stored)).toBe(true);
    expect(newHasher({ ...cheap, timeCost: 2 }).needsRehash(stored)).toBe(true);
    expect(newHasher({ ...cheap, parallelism: 2 }).needsRehash(stored)).toBe(true);
  });

  it('needsRehash() is true for a hash that is not argon2id', () => {
    const hasher = newHasher();
    expect(hasher.needsRehash('$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA')).toBe(true);
    expect(hasher.needsRehash('$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234')).toBe(true);
    expect(hasher.needsRehash('')).toBe(true);
  });

  it('a hash made with other parameters still verifies (so login can rehash it)', async () => {
    const stored = await newHasher({ ...cheap, memoryKib: 2048 }).hash('purple monkey dishwasher');
    const hasher = newHasher();
    expect(hasher.needsRehash(stored)).toBe(true);
    expect(await hasher.verify(stored, 'purple monkey dishwasher')).toBe(true);
  });

  it('LG-01: verifyAgainstDummy() resolves false, also for the dummy password itself', async () => {
    const hasher = newHasher();
    await expect(hasher.verifyAgainstDummy('purple monkey dishwasher')).resolves.toBe(false);
    await expect(hasher.verifyAgainstDummy('twofold dummy password for unknown usernames')).resolves.toBe(false);
  });

  it('LG-01: verifyAgainstDummy() really runs one argon2 verify per call (the dummy hash is made once)', async () => {
    // Count the work items passed to a real limiter: hash + verify on the first call, verify only after.
    const limiter = createWorkLimiter({ maxInFlight: 2, maxQueued: 10 });
    let runs = 0;
    const counting = {
      get inFlight() {
        return limiter.inFlight;
      },
      get queued() {
        return limiter.queued;
      },
      run<T>(work: () => Promise<T>): Promise<T> {
        runs += 1;
        return limiter.run(work);
      },
    };
    const hasher = createPasswordHasher(cheap, counting);
    await hasher.verifyAgainstDummy('purple monkey dishwasher');
    expect(runs).toBe(2);
    await hasher.verifyAgainstDummy('another guess entirely');
    expect(runs).toBe(3);
    expect(limiter.inFlight).toBe(0);
  });

  it('hashes through the work limiter: a full limiter refuses at once', async () => {
    const limiter = createWorkLimiter({ maxInFlight: 1, maxQueued: 0 });
    const hasher = createPasswordHasher(cheap, limiter);
    await hasher.verifyAgainstDummy('settle the start-up dummy hash first');
    const first = hasher.hash('purple monkey dishwasher');
    await expect(hasher.hash('purple monkey dishwasher')).rejects.toThrow(/work limiter full/);
    await expect(first).resolves.toMatch(/^\$argon2id\$/);
  });
});

describe('parseArgon2Parameters()', () => {
  it('reads m, t and p from an argon2id PHC string', () => {
    expect(parseArgon2Parameters('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA')).toEqual({
      memoryKib: 19456,
      timeCost: 2,
      parallelism: 1,
    });
  });

  it('reads the parameters of a freshly made hash', async () => {
    expect(parseArgon2Parameters(await newHasher().hash('purple monkey dishwasher'))).toEqual(cheap);
  });

  it.each([
    ['argon2i', '$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'],
    ['argon2d', '$argon2d$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'],
    ['old version', '$argon2id$v=16$m=19456,t=2,p=1$c2FsdA$aGFzaA'],
    ['bcrypt', '$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'],
    ['reordered parameters', '$argon2id$v=19$t=2,m=19456,p=1$c2FsdA$aGFzaA'],
    ['garbage', 'not a hash'],
    ['empty', ''],
  ])('returns undefined for %s', (_label, phc) => {
    expect(parseArgon2Parameters(phc)).toBeUndefined();
  });
});
