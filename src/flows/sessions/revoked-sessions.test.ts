import { describe, expect, it } from 'vitest';
import { RevokedSessionSet } from './revoked-sessions.js';

describe('RevokedSessionSet', () => {
  it('has(): revoked until its time, not at it (expiresAt == now is over)', () => {
    const revoked = new RevokedSessionSet();
    revoked.add('ses_1', 1_000);
    expect(revoked.has('ses_1', 999)).toBe(true);
    expect(revoked.has('ses_1', 1_000)).toBe(false);
    expect(revoked.size).toBe(0);
    expect(revoked.has('ses_2', 0)).toBe(false);
  });

  it('add(): a session revoked twice stays revoked until the later of the two times', () => {
    const revoked = new RevokedSessionSet();
    revoked.add('ses_1', 5_000);
    revoked.add('ses_1', 1_000);
    revoked.sweep(1_000);
    expect(revoked.has('ses_1', 4_999)).toBe(true);
    revoked.add('ses_1', 9_000);
    revoked.sweep(5_000);
    expect(revoked.has('ses_1', 8_999)).toBe(true);
    expect(revoked.size).toBe(1);
  });

  it('sweep(): drops what has expired, keeps the rest', () => {
    const revoked = new RevokedSessionSet();
    for (let index = 0; index < 10; index += 1) revoked.add(`ses_${index}`, index * 100);
    revoked.sweep(450);
    expect(revoked.size).toBe(5);
    expect(revoked.has('ses_5', 450)).toBe(true);
    expect(revoked.has('ses_4', 399)).toBe(false);
  });

  it('RC-05: 100,000 logouts, each adding one and sweeping, never walk the set (heap moves O(log n) each)', () => {
    const revoked = new RevokedSessionSet();
    const count = 100_000;
    const lifetimeMs = 660_000; // an access token's 10 minutes and the clock skew
    // One logout per millisecond: the set holds ~660,000 ms worth at any time, a sweep per logout.
    for (let now = 0; now < count; now += 1) {
      revoked.sweep(now);
      revoked.add(`ses_${now}`, now + lifetimeMs);
    }
    expect(revoked.size).toBe(count);
    for (let now = count; now < count + lifetimeMs; now += 10_000) revoked.sweep(now);
    revoked.sweep(count + lifetimeMs);
    expect(revoked.size).toBe(0);
    // A walk per sweep (the code as it was) is ~5·10^9 visits; log2(100,000) ≈ 17 moves a removal.
    expect(revoked.expiryHeapMoves).toBeLessThanOrEqual(2 * count * 18);
  });
});
