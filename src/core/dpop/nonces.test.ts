import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDpopNonces } from './nonces.js';

describe('stateless DPoP nonces', () => {
  it('DP-10: a nonce from one instance is accepted by another sharing the secret, for the current and the previous window only', () => {
    const secret = randomBytes(32);
    let clock = Date.UTC(2026, 11, 7, 12, 0, 30);
    const instanceA = createDpopNonces({ secret, windowSeconds: 60, now: () => clock });
    const instanceB = createDpopNonces({ secret: Buffer.from(secret), windowSeconds: 60, now: () => clock });
    const nonce = instanceA.issue();
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(instanceB.issue()).toBe(nonce);
    expect(instanceB.check(nonce)).toBe(true);
    clock += 60_000;
    expect(instanceB.issue()).not.toBe(nonce);
    expect(instanceB.check(nonce)).toBe(true);
    clock += 60_000;
    expect(instanceB.check(nonce)).toBe(false);
  });

  it('DP-10: another secret\'s nonce, a nonce from the future, a tampered or over-long one are refused', () => {
    const clock = Date.UTC(2026, 11, 7, 12, 0, 30);
    const nonces = createDpopNonces({ secret: randomBytes(32), windowSeconds: 60, now: () => clock });
    const other = createDpopNonces({ secret: randomBytes(32), windowSeconds: 60, now: () => clock });
    const future = createDpopNonces({ secret: randomBytes(32), windowSeconds: 60, now: () => clock + 60_000 });
    expect(nonces.check(other.issue())).toBe(false);
    expect(nonces.check(future.issue())).toBe(false);
    const nonce = nonces.issue();
    expect(nonces.check(`${nonce.slice(0, -1)}${nonce.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    expect(nonces.check(nonce + 'x'.repeat(200))).toBe(false);
    expect(nonces.check('')).toBe(false);
  });

  it('DP-10: a short secret or a window that is not a positive whole number of seconds is refused at creation', () => {
    expect(() => createDpopNonces({ secret: randomBytes(16), windowSeconds: 60, now: Date.now })).toThrow();
    expect(() => createDpopNonces({ secret: randomBytes(32), windowSeconds: 0, now: Date.now })).toThrow();
  });
});
