import { describe, expect, it } from 'vitest';
import { generateId, generateRandomBase64url, type IdKind } from './random.js';

const kinds: IdKind[] = ['usr', 'fac', 'ses', 'rt', 'rc', 'jti'];

describe('generateId()', () => {
  it.each(kinds)('prefixes a %s id with its kind and 128 random bits in base64url', (kind) => {
    const id = generateId(kind);
    expect(id).toMatch(new RegExp(`^${kind}_[A-Za-z0-9_-]{22}$`));
    expect(Buffer.from(id.slice(kind.length + 1), 'base64url')).toHaveLength(16);
  });

  it('SS-01: 10 000 ids are all distinct', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => generateId('ses')));
    expect(ids.size).toBe(10_000);
  });

  it('SS-01: the random part of 10 000 ids is distinct across kinds too', () => {
    const randomParts = new Set<string>();
    for (let index = 0; index < 10_000; index += 1) {
      const id = generateId(kinds[index % kinds.length]!);
      randomParts.add(id.slice(id.indexOf('_') + 1));
    }
    expect(randomParts.size).toBe(10_000);
  });
});

describe('generateRandomBase64url()', () => {
  it('encodes the requested number of bytes without padding', () => {
    for (const byteLength of [1, 16, 32, 33]) {
      const value = generateRandomBase64url(byteLength);
      expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(value, 'base64url')).toHaveLength(byteLength);
    }
  });

  it('SS-01: 10 000 values of 32 bytes are all distinct', () => {
    expect(new Set(Array.from({ length: 10_000 }, () => generateRandomBase64url(32))).size).toBe(10_000);
  });
});
