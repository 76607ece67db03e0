import { describe, expect, it } from 'vitest';
import { generateRecoveryCode, generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from './codes.js';

const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const codeShape = /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;
const pepper = Buffer.alloc(32, 0x5a);

describe('generateRecoveryCode()', () => {
  it('RC-01: has the form XXXXX-XXXXX-XXXXX-XXXXX in Crockford base32 (no I, L, O, U)', () => {
    for (let index = 0; index < 200; index += 1) {
      const code = generateRecoveryCode();
      expect(code).toMatch(codeShape);
      expect(code).not.toMatch(/[ILOU]/);
    }
  });

  it('RC-01: carries at least 100 bits (20 characters of 5 bits each)', () => {
    const characters = generateRecoveryCode().replace(/-/g, '');
    expect(characters).toHaveLength(20);
    expect(characters.length * Math.log2(crockford.length)).toBeGreaterThanOrEqual(100);
  });

  it('RC-01: 1000 codes are all distinct', () => {
    expect(new Set(generateRecoveryCodes(1000)).size).toBe(1000);
  });

  it('uses the whole alphabet roughly uniformly (no modulo bias, no stuck characters)', () => {
    const counts = new Map<string, number>();
    for (const code of generateRecoveryCodes(1000)) {
      for (const character of code.replace(/-/g, '')) counts.set(character, (counts.get(character) ?? 0) + 1);
    }
    // 20 000 characters over 32 symbols: ~625 each, standard deviation ~25.
    expect([...counts.keys()].sort().join('')).toBe(crockford);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(450);
      expect(count).toBeLessThan(800);
    }
  });

  it('a generated code normalizes to itself without dashes', () => {
    const code = generateRecoveryCode();
    expect(normalizeRecoveryCode(code)).toBe(code.replace(/-/g, ''));
  });
});

describe('generateRecoveryCodes()', () => {
  it('returns the requested number of codes', () => {
    expect(generateRecoveryCodes(10)).toHaveLength(10);
    expect(generateRecoveryCodes(0)).toEqual([]);
  });
});

describe('normalizeRecoveryCode()', () => {
  const canonical = '0123456789ABCDEFGHJK';

  it('accepts the grouped canonical form', () => {
    expect(normalizeRecoveryCode('01234-56789-ABCDE-FGHJK')).toBe(canonical);
  });

  it('tolerates lowercase', () => {
    expect(normalizeRecoveryCode('01234-56789-abcde-fghjk')).toBe(canonical);
  });

  it('tolerates spaces instead of, or around, the dashes', () => {
    expect(normalizeRecoveryCode('01234 56789 ABCDE FGHJK')).toBe(canonical);
    expect(normalizeRecoveryCode('  01234-56789-ABCDE-FGHJK\n')).toBe(canonical);
  });

  it('tolerates Unicode spaces and dashes: a non-breaking space, a non-breaking hyphen, an en dash, a minus sign', () => {
    expect(normalizeRecoveryCode('01234\u00a056789\u2011ABCDE\u2013FGHJK')).toBe(canonical);
    expect(normalizeRecoveryCode('01234\u221256789 - abcde\u2014fghjk')).toBe(canonical);
  });

  it('tolerates missing dashes', () => {
    expect(normalizeRecoveryCode('0123456789ABCDEFGHJK')).toBe(canonical);
  });

  it('reads O as 0 and I or L as 1, in either case', () => {
    expect(normalizeRecoveryCode('O1234-56789-ABCDE-FGHJK')).toBe(canonical);
    expect(normalizeRecoveryCode('o1234-56789-ABCDE-FGHJK')).toBe(canonical);
    expect(normalizeRecoveryCode('0I234-56789-ABCDE-FGHJK')).toBe(canonical);
    expect(normalizeRecoveryCode('0i234-56789-ABCDE-FGHJK')).toBe(canonical);
    expect(normalizeRecoveryCode('0L234-56789-ABCDE-FGHJK')).toBe(canonical);
    expect(normalizeRecoveryCode('0l234-56789-ABCDE-FGHJK')).toBe(canonical);
  });

  it('tolerates full-width characters (NFKC)', () => {
    expect(normalizeRecoveryCode('０１２３４-56789-ABCDE-FGHJK')).toBe(canonical);
  });

  it.each([
    ['one character short', '01234-56789-ABCDE-FGHJ'],
    ['one character long', '01234-56789-ABCDE-FGHJKM'],
    ['empty', ''],
    ['only dashes', '-----'],
  ])('rejects a code of the wrong length (%s)', (_label, input) => {
    expect(normalizeRecoveryCode(input)).toBeUndefined();
  });

  it.each([
    ['U', '01234-56789-ABCDE-FGHJU'],
    ['punctuation', '01234-56789-ABCDE-FGHJ!'],
    ['underscore', '01234_56789-ABCDE-FGHJ'],
    ['a non-Latin letter', '01234-56789-ABCDE-FGHJЖ'],
    ['Arabic-Indic digit', '01234-56789-ABCDE-FGHJ١'],
    ['a zero-width space', '01234-56789-ABCDE-FGHJ\u200bK'],
  ])('rejects invalid characters (%s)', (_label, input) => {
    expect(normalizeRecoveryCode(input)).toBeUndefined();
  });
});

describe('hashRecoveryCode()', () => {
  it('RC-03: is deterministic for the same code and pepper', () => {
    expect(hashRecoveryCode('0123456789ABCDEFGHJK', pepper)).toBe(hashRecoveryCode('0123456789ABCDEFGHJK', pepper));
  });

  it('RC-03: depends on the pepper', () => {
    expect(hashRecoveryCode('0123456789ABCDEFGHJK', pepper)).not.toBe(hashRecoveryCode('0123456789ABCDEFGHJK', Buffer.alloc(32, 0x5b)));
  });

  it('RC-03: differs between codes and never contains the code', () => {
    const hash = hashRecoveryCode('0123456789ABCDEFGHJK', pepper);
    expect(hash).not.toBe(hashRecoveryCode('0123456789ABCDEFGHJM', pepper));
    expect(hash).not.toContain('0123456789ABCDEFGHJK');
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('gives one hash for every way a person may type the same code', () => {
    const expected = hashRecoveryCode(normalizeRecoveryCode('01234-56789-ABCDE-FGHJK')!, pepper);
    for (const typed of ['o1234 56789 abcde fghjk', '0123456789abcdefghjk', 'O1234-56789-ABCDE-FGHJK']) {
      expect(hashRecoveryCode(normalizeRecoveryCode(typed)!, pepper)).toBe(expected);
    }
  });
});
