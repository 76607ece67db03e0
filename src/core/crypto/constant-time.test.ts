import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from './constant-time.js';

describe('constantTimeEqual()', () => {
  it('is true for equal strings', () => {
    expect(constantTimeEqual('123456', '123456')).toBe(true);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('ключ 🔑', 'ключ 🔑')).toBe(true);
  });

  it('is false for strings of the same length that differ in one character (first, middle, last)', () => {
    expect(constantTimeEqual('123456', '023456')).toBe(false);
    expect(constantTimeEqual('123456', '124456')).toBe(false);
    expect(constantTimeEqual('123456', '123457')).toBe(false);
  });

  it('is false, without throwing, for strings of different lengths', () => {
    expect(constantTimeEqual('123456', '1234567')).toBe(false);
    expect(constantTimeEqual('1234567', '123456')).toBe(false);
    expect(constantTimeEqual('', '0')).toBe(false);
    expect(constantTimeEqual('abc', 'abc\u0000')).toBe(false);
  });

  it('is case-sensitive and does not normalize Unicode', () => {
    expect(constantTimeEqual('abc', 'ABC')).toBe(false);
    expect(constantTimeEqual('\u00e9', 'e\u0301')).toBe(false);
  });

  it('is false for a prefix', () => {
    expect(constantTimeEqual('tfr_abcdef', 'tfr_abc')).toBe(false);
  });
});
