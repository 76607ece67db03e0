// One-time codes sent by SMS or e-mail (OB-01/OB-02): six digits from the CSPRNG, uniform with
// leading zeros, stored only as an HMAC under the server pepper and bound to their challenge;
// checked for shape first and then compared in constant time.
import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { constantTimeEqual } from '../crypto/constant-time.js';
import { generateOtpCode, hashOtpCode, isOtpCodeShape, otpCodeDigits, verifyOtpCode } from './codes.js';

// The real comparison, watched: verifyOtpCode must go through it.
vi.mock('../crypto/constant-time.js', async (importOriginal) => {
  const original = await importOriginal<{ constantTimeEqual: (a: string, b: string) => boolean }>();
  return { ...original, constantTimeEqual: vi.fn(original.constantTimeEqual) };
});

const pepper = Buffer.alloc(32, 0x5a);
const otherPepper = Buffer.from(pepper);
otherPepper[31] = 0x5b; // one bit apart
const challengeId = 'chl_AAAAAAAAAAAAAAAAAAAAAA';
const otherChallengeId = 'chl_BBBBBBBBBBBBBBBBBBBBBB';

afterEach(() => {
  vi.mocked(constantTimeEqual).mockClear();
  vi.restoreAllMocks();
});

describe('generateOtpCode()', () => {
  const sampleSize = 10_000;
  const codes = Array.from({ length: sampleSize }, () => generateOtpCode());

  it('OB-01: codes have 6 digits', () => {
    expect(otpCodeDigits).toBe(6);
    for (const code of codes) expect(code).toMatch(/^[0-9]{6}$/);
  });

  it('OB-01: 10 000 codes — every digit position takes all 10 values', () => {
    for (let position = 0; position < 6; position += 1) {
      const seen = new Set(codes.map((code) => code[position]));
      expect([...seen].sort().join(''), `position ${position}`).toBe('0123456789');
    }
  });

  it('OB-01: leading zeros are kept (about one code in ten starts with 0, one in a hundred with 00)', () => {
    const leadingZero = codes.filter((code) => code.startsWith('0')).length;
    // Binomial(10 000, 0.1): mean 1000, standard deviation 30.
    expect(leadingZero).toBeGreaterThan(800);
    expect(leadingZero).toBeLessThan(1200);
    // Binomial(10 000, 0.01): mean 100, standard deviation 10.
    expect(codes.filter((code) => code.startsWith('00')).length).toBeGreaterThan(40);
  });

  it('OB-01: uniform enough — each position passes a chi-square test, and the first digit is not biased', () => {
    for (let position = 0; position < 6; position += 1) {
      const counts = Array.from({ length: 10 }, () => 0);
      for (const code of codes) counts[Number(code[position])]! += 1;
      const expected = sampleSize / 10;
      const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
      // 9 degrees of freedom: p = 0.001 at 27.9; 50 is far beyond chance (p < 1e-7).
      expect(chiSquare, `position ${position}: ${counts.join(' ')}`).toBeLessThan(50);
    }
  });

  it('OB-01: 10 000 codes out of a million are nearly all distinct (about 50 birthday collisions expected)', () => {
    expect(new Set(codes).size).toBeGreaterThan(sampleSize - 200);
  });

  it('comes from the CSPRNG, not Math.random', () => {
    const random = vi.spyOn(Math, 'random');
    for (let index = 0; index < 100; index += 1) generateOtpCode();
    expect(random).not.toHaveBeenCalled();
  });
});

describe('isOtpCodeShape()', () => {
  it('accepts exactly six ASCII digits', () => {
    for (const code of ['000000', '123456', '999999', '012345']) expect(isOtpCodeShape(code), code).toBe(true);
  });

  const arabicIndic = '٠١٢٣٤٥';
  const fullWidth = '０１２３４５';
  it.each([
    ['empty', ''],
    ['5 digits', '12345'],
    ['7 digits', '1234567'],
    ['a leading space', ' 123456'],
    ['a trailing space', '123456 '],
    ['a trailing newline', '123456\n'],
    ['a NUL', '123456\u0000'],
    ['a letter', '12345a'],
    ['a sign', '+12345'],
    ['a minus', '-12345'],
    ['a dash inside', '123-456'],
    ['a decimal point', '1234.5'],
    ['an exponent', '1e5000'],
    ['Arabic-Indic digits', arabicIndic],
    ['full-width digits', fullWidth],
    ['twice a code', '123456123456'],
  ])('refuses %s', (_name, code) => {
    expect(isOtpCodeShape(code)).toBe(false);
  });
});

describe('hashOtpCode()', () => {
  const hash = hashOtpCode('123456', challengeId, pepper);

  it('is deterministic, base64url, 256 bits, and does not contain the code', () => {
    expect(hashOtpCode('123456', challengeId, pepper)).toBe(hash);
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash).not.toContain('123456');
  });

  it('depends on every digit of the code', () => {
    const hashes = new Set([hash]);
    for (let position = 0; position < 6; position += 1) {
      const changed = `${'123456'.slice(0, position)}${(Number('123456'[position]) + 1) % 10}${'123456'.slice(position + 1)}`;
      hashes.add(hashOtpCode(changed, challengeId, pepper));
    }
    expect(hashes.size).toBe(7);
  });

  it('depends on the challenge id: the same code hashes differently for another challenge (OB-02)', () => {
    expect(hashOtpCode('123456', otherChallengeId, pepper)).not.toBe(hash);
    expect(hashOtpCode('123456', `${challengeId}x`, pepper)).not.toBe(hash);
  });

  it('depends on the pepper (one bit is enough): a stolen table alone cannot be brute-forced', () => {
    expect(hashOtpCode('123456', challengeId, otherPepper)).not.toBe(hash);
  });

  it('is keyed (HMAC-SHA256 under the pepper), not a bare digest of the code', () => {
    const independent = createHmac('sha256', pepper).update(`otp:${challengeId}:123456`, 'utf8').digest('base64url');
    expect(hash).toBe(independent);
    for (const unkeyed of ['123456', `${challengeId}:123456`, `otp:${challengeId}:123456`]) {
      expect(hash).not.toBe(createHash('sha256').update(unkeyed).digest('base64url'));
    }
  });

  it('codes spread over the whole range all hash differently for one challenge (no truncation, no collisions)', () => {
    const seen = new Set<string>();
    for (let value = 0; value < 1_000_000; value += 97) seen.add(hashOtpCode(String(value).padStart(6, '0'), challengeId, pepper));
    expect(seen.size).toBe(Math.ceil(1_000_000 / 97));
  });
});

describe('verifyOtpCode()', () => {
  const stored = hashOtpCode('042042', challengeId, pepper);

  it('accepts the code for its own challenge and pepper', () => {
    expect(verifyOtpCode('042042', challengeId, stored, pepper)).toBe(true);
  });

  it('refuses a wrong code, the code for another challenge, and the code under another pepper', () => {
    expect(verifyOtpCode('042043', challengeId, stored, pepper)).toBe(false);
    expect(verifyOtpCode('42042', challengeId, stored, pepper)).toBe(false);
    expect(verifyOtpCode('042042', otherChallengeId, stored, pepper)).toBe(false);
    expect(verifyOtpCode('042042', challengeId, stored, otherPepper)).toBe(false);
  });

  it('compares the hashes in constant time (constantTimeEqual, never ===)', () => {
    const compare = vi.mocked(constantTimeEqual);
    compare.mockClear();
    expect(verifyOtpCode('042043', challengeId, stored, pepper)).toBe(false);
    expect(compare).toHaveBeenCalledTimes(1);
    expect(compare).toHaveBeenCalledWith(hashOtpCode('042043', challengeId, pepper), stored);
    expect(verifyOtpCode('042042', challengeId, stored, pepper)).toBe(true);
    expect(compare).toHaveBeenCalledTimes(2);
  });

  it('checks the shape first: a malformed code is refused even if the stored hash was made from it', () => {
    for (const malformed of ['', ' 042042', '042042 ', '04204', '0420420', '٠٤٢٠٤٢', '０４２０４２', '042-042']) {
      const storedForMalformed = hashOtpCode(malformed, challengeId, pepper);
      expect(verifyOtpCode(malformed, challengeId, storedForMalformed, pepper), JSON.stringify(malformed)).toBe(false);
    }
  });

  it('refuses, without throwing, a stored hash of another length (empty, truncated, padded)', () => {
    for (const bad of ['', stored.slice(0, 20), `${stored}=`, `${stored}${stored}`]) {
      expect(() => verifyOtpCode('042042', challengeId, bad, pepper)).not.toThrow();
      expect(verifyOtpCode('042042', challengeId, bad, pepper)).toBe(false);
    }
  });
});
