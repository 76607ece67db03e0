import { describe, expect, it } from 'vitest';
import { normalizeUsername } from './username.js';

function accepted(input: string): string {
  const result = normalizeUsername(input);
  if (!result.ok) return expect.fail(`expected ${JSON.stringify(input)} to be accepted: ${result.message}`);
  return result.username;
}

function refusal(input: string): string {
  const result = normalizeUsername(input);
  if (result.ok) return expect.fail(`expected ${JSON.stringify(input)} to be refused, got ${result.username}`);
  return result.message;
}

describe('normalizeUsername()', () => {
  it('folds case: "Alice", "ALICE" and "alice" are one username', () => {
    expect(accepted('Alice')).toBe('alice');
    expect(accepted('ALICE')).toBe('alice');
    expect(accepted('alice')).toBe('alice');
  });

  it('applies NFKC: full-width "Ａｌｉｃｅ" is "alice"', () => {
    expect(accepted('Ａｌｉｃｅ')).toBe('alice');
  });

  it('maps composed and decomposed accents to one username', () => {
    expect(accepted('Jos\u00e9')).toBe('jos\u00e9');
    expect(accepted('Jose\u0301')).toBe('jos\u00e9');
  });

  it('refuses fewer than 3 characters and accepts exactly 3', () => {
    expect(refusal('ab')).toMatch(/3 to 64/);
    expect(refusal('')).toMatch(/3 to 64/);
    expect(accepted('abc')).toBe('abc');
  });

  it('accepts exactly 64 characters and refuses 65', () => {
    expect(accepted('a'.repeat(64))).toBe('a'.repeat(64));
    expect(refusal('a'.repeat(65))).toMatch(/3 to 64/);
  });

  it('counts code points, not UTF-16 units, for the length bounds', () => {
    // Three astral-plane letters (Deseret) are six UTF-16 units: still three characters.
    const deseret = '\u{10428}\u{10429}\u{1042A}';
    expect(deseret.length).toBe(6);
    expect(accepted(deseret)).toBe(deseret);
    expect(accepted('\u{10428}'.repeat(64))).toBe('\u{10428}'.repeat(64));
    expect(refusal('\u{10428}'.repeat(65))).toMatch(/3 to 64/);
  });

  it('allows letters, digits, ".", "_" and "-"', () => {
    expect(accepted('alice.smith_2-x')).toBe('alice.smith_2-x');
    expect(accepted('007agent')).toBe('007agent');
  });

  it.each([['_alice'], ['.alice'], ['-alice']])('must start with a letter or digit: refuses %j', (input) => {
    expect(refusal(input)).toMatch(/starts with a letter or digit/);
  });

  it.each([['ali ce'], ['alice@example.com'], ['alice!'], ['ali/ce'], ['alice\u0000'], ['alice🦊'], [' alice']])(
    'refuses the character set of %j',
    (input) => {
      expect(normalizeUsername(input).ok).toBe(false);
    },
  );

  it('allows non-Latin letters', () => {
    expect(accepted('Алиса')).toBe('алиса');
    expect(accepted('太郎さん')).toBe('太郎さん');
    expect(accepted('مريم')).toBe('مريم');
    expect(accepted('Ελένη')).toBe('ελένη');
  });

  it('allows combining marks after the first character, not at the start', () => {
    expect(accepted('ना\u092E')).toBe('ना\u092E'.normalize('NFKC'));
    expect(normalizeUsername('\u0301abc').ok).toBe(false);
  });
});
