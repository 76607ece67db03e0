import { describe, expect, it } from 'vitest';
import { countCodePoints, normalizePassword } from './normalize.js';

describe('normalizePassword()', () => {
  it('PW-03: maps composed and decomposed forms to the same string (NFKC)', () => {
    expect(normalizePassword('caf\u00e9 au lait!')).toBe(normalizePassword('cafe\u0301 au lait!'));
  });

  it('PW-03: maps full-width characters to their ASCII forms (NFKC)', () => {
    expect(normalizePassword('ｐａｓｓ１２３')).toBe('pass123');
  });

  it('keeps spaces and emoji unchanged', () => {
    expect(normalizePassword('  🦊 fox  ')).toBe('  🦊 fox  ');
  });
});

describe('countCodePoints()', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(countCodePoints('')).toBe(0);
    expect(countCodePoints('abc')).toBe(3);
    expect(countCodePoints('🦊')).toBe(1);
    expect(countCodePoints('e\u0301')).toBe(2);
  });
});
