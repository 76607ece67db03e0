import { describe, expect, it } from 'vitest';
import { countCodePoints, normalizePassword } from './normalize.js';
import { checkPasswordPolicy, type PasswordContext, type PasswordProblemCode } from './policy.js';

const context: PasswordContext = { username: 'margaret', serviceName: 'Twofold', minLength: 12, maxLength: 128 };

/** The policy takes NFKC-normalized input, exactly as the register flow passes it. */
function problemCodes(password: string, overrides: Partial<PasswordContext> = {}): PasswordProblemCode[] {
  return checkPasswordPolicy(normalizePassword(password), { ...context, ...overrides }).map((problem) => problem.code);
}

describe('checkPasswordPolicy(): length (PW-01, PW-02)', () => {
  it('PW-01: refuses 11 characters as too_short', () => {
    expect(problemCodes('gT7#kq2Lm9v')).toEqual(['too_short']);
  });

  it('PW-01: accepts 12 characters', () => {
    expect(problemCodes('gT7#kq2Lm9vW')).toEqual([]);
  });

  it('PW-01: counts code points, not bytes: 11 × composed "é" (22 UTF-8 bytes) is too_short', () => {
    const composed = '\u00e9'.repeat(11);
    expect(Buffer.byteLength(composed, 'utf8')).toBe(22);
    expect(problemCodes(composed)).toContain('too_short');
  });

  it('PW-01: 11 × decomposed "e\\u0301" (22 code points before NFKC) is too_short after normalization', () => {
    const decomposed = 'e\u0301'.repeat(11);
    expect(countCodePoints(decomposed)).toBe(22);
    expect(normalizePassword(decomposed)).toBe('\u00e9'.repeat(11));
    expect(problemCodes(decomposed)).toContain('too_short');
  });

  it('PW-01: counts an astral emoji as one character, not two UTF-16 units', () => {
    // Eleven distinct emoji are 22 UTF-16 units but 11 code points: still too short.
    const elevenEmoji = '🦊🌲🌙🍀🚲🎻🧭🪁🦉🐙🍄';
    expect(elevenEmoji.length).toBe(22);
    expect(problemCodes(elevenEmoji)).toEqual(['too_short']);
    expect(problemCodes(`${elevenEmoji}🐝`)).toEqual([]);
  });

  it('PW-02: accepts 128 characters', () => {
    const password = 'gT7#kq2Lm9vWzR4p'.repeat(8);
    expect(countCodePoints(password)).toBe(128);
    expect(problemCodes(password)).toEqual([]);
  });

  it('PW-02: refuses 129 characters as too_long (never truncated), and reports only that', () => {
    const password = `${'gT7#kq2Lm9vWzR4p'.repeat(8)}x`;
    expect(problemCodes(password)).toEqual(['too_long']);
  });

  it('PW-02: refuses a megabyte password as too_long', () => {
    expect(problemCodes('x'.repeat(1024 * 1024))).toEqual(['too_long']);
  });

  it('reports every problem with a message naming the limit', () => {
    const problems = checkPasswordPolicy('gT7#kq2Lm9v', context);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain('12');
    expect(checkPasswordPolicy('y'.repeat(129), context)[0]!.message).toContain('128');
  });
});

describe('checkPasswordPolicy(): any Unicode, no composition rules (PW-03/04)', () => {
  it('PW-03: accepts an emoji passphrase', () => {
    expect(problemCodes('🦊🌲 fox in the forest 🌙')).toEqual([]);
  });

  it('PW-04: accepts a 16+ character all-lowercase passphrase with spaces and no digits or symbols', () => {
    expect(problemCodes('purple monkey dishwasher')).toEqual([]);
    expect(problemCodes('quiet river mist')).toEqual([]);
  });

  it('PW-03: accepts non-Latin passphrases', () => {
    expect(problemCodes('горит костёр рябины красной')).toEqual([]);
    expect(problemCodes('春はあけぼのやうやう白くなりゆく')).toEqual([]);
  });
});

describe('checkPasswordPolicy(): blocklist and context words (PW-05)', () => {
  it.each([['password1234'], ['P@ssw0rd1234!'], ['Dragon2024!!!!']])('PW-05: refuses %j as common', (password) => {
    expect(problemCodes(password)).toContain('common');
  });

  it('PW-05: refuses "<username>2024!!" as contains_username', () => {
    expect(problemCodes('margaret2024!!')).toContain('contains_username');
    expect(problemCodes('Margaret2024!!')).toContain('contains_username');
  });

  it('PW-05: refuses a password built from the username in leetspeak', () => {
    expect(problemCodes('m4rg4r3t2024!!')).toContain('contains_username');
  });

  it('PW-05: refuses a password built from the local part of the e-mail address', () => {
    expect(problemCodes('quietalice99!!', { username: 'zed', email: 'alice@example.com' })).toContain('contains_username');
  });

  it('PW-05: refuses a password built from the service name "Twofold" as contains_service_name', () => {
    expect(problemCodes('Twofold2024!!')).toContain('contains_service_name');
    expect(problemCodes('tw0f0ld-tw0f0ld')).toContain('contains_service_name');
  });

  it.each([['aaaaaaaaaaaaaa'], ['abcabcabcabc']])('PW-05: refuses %j as repetitive', (password) => {
    expect(problemCodes(password)).toContain('repetitive');
  });

  it.each([['123456789012'], ['abcdefghijklmn'], ['zyxwvutsrqponm'], ['890123456789']])('PW-05: refuses %j as sequential', (password) => {
    expect(problemCodes(password)).toContain('sequential');
  });

  it('accepts a strong passphrase that merely contains a 3-letter username inside a longer sentence', () => {
    expect(problemCodes('the bob cat sleeps in the sun', { username: 'bob' })).toEqual([]);
  });

  it('ignores context words shorter than 3 characters', () => {
    expect(problemCodes('al wanders along quiet lanes', { username: 'al' })).toEqual([]);
  });

  it('reports several reasons at once', () => {
    const codes = problemCodes('margaret!!');
    expect(codes).toContain('too_short');
    expect(codes).toContain('contains_username');
  });
});
