import { describe, expect, it } from 'vitest';
import { commonPasswordCount, isCommonPassword } from './common-passwords.js';

describe('common passwords', () => {
  it('PW-05: commonPasswordCount() holds at least 10 000 entries (≥ top-3000 required)', () => {
    expect(commonPasswordCount()).toBeGreaterThanOrEqual(10_000);
  });

  it('isCommonPassword() finds lowercased well-known passwords and not a random string', () => {
    expect(isCommonPassword('password')).toBe(true);
    expect(isCommonPassword('123456')).toBe(true);
    expect(isCommonPassword('qwerty')).toBe(true);
    expect(isCommonPassword('gt7#kq2lm9vwzr4p')).toBe(false);
  });
});
