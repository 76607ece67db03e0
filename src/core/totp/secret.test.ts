import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { generateTotpSecret, totpParameters, totpSecretBytes } from './secret.js';
import { generateTotpCode, verifyTotpCode } from './verify.js';

describe('generateTotpSecret()', () => {
  it('OT-02: returns 32 base32 characters, i.e. 160 bits', () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(Secret.fromBase32(secret).bytes).toHaveLength(20);
    expect(totpSecretBytes * 8).toBeGreaterThanOrEqual(160);
  });

  it('OT-02: 1000 generated secrets are all distinct', () => {
    const secrets = new Set(Array.from({ length: 1000 }, generateTotpSecret));
    expect(secrets.size).toBe(1000);
  });

  it('OT-02: generated secrets are not biased toward one character (CSPRNG output, rough sanity check)', () => {
    // 1000 × 32 characters over a 32-letter alphabet: each letter appears ~1000 times. A broken
    // generator (constant, zero-filled, or ASCII-derived) would put some letters far outside this range.
    const counts = new Map<string, number>();
    for (let index = 0; index < 1000; index += 1) {
      for (const character of generateTotpSecret()) counts.set(character, (counts.get(character) ?? 0) + 1);
    }
    expect(counts.size).toBe(32);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(700);
      expect(count).toBeLessThan(1300);
    }
  });

  it('produces a secret that generates and verifies codes', () => {
    const secret = generateTotpSecret();
    const nowMs = 1_700_000_015_000;
    const step = Math.floor(nowMs / 30_000);
    expect(verifyTotpCode({ secretBase32: secret, code: generateTotpCode(secret, step), nowMs, windowSteps: 1 })).toBe(step);
  });
});

describe('totpParameters', () => {
  it('OT-01: are SHA-1, 6 digits and 30-second steps (authenticator-app defaults)', () => {
    expect(totpParameters).toEqual({ algorithm: 'SHA1', digits: 6, periodSeconds: 30 });
  });
});
