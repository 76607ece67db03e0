import { describe, expect, it } from 'vitest';
import { generateId, generateRandomBase64url, randomBytesFromPool, type IdKind } from './random.js';

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

describe('randomBytesFromPool()', () => {
  it('SS-01: hands out every pooled byte once — the bytes across many refills never repeat a 16-byte block', () => {
    const blocks = new Set<string>();
    // 5,000 × 16 bytes = 78 KiB: about twenty refills of the 4 KiB pool.
    for (let index = 0; index < 5_000; index += 1) blocks.add(randomBytesFromPool(16).toString('hex'));
    expect(blocks.size).toBe(5_000);
  });

  it('returns copies: a refill does not change bytes already handed out', () => {
    const first = randomBytesFromPool(32);
    const snapshot = Buffer.from(first);
    for (let index = 0; index < 300; index += 1) randomBytesFromPool(32);
    expect(first.equals(snapshot)).toBe(true);
  });

  it('serves odd sizes and large requests (straight from the CSPRNG)', () => {
    expect(randomBytesFromPool(1)).toHaveLength(1);
    expect(randomBytesFromPool(33)).toHaveLength(33);
    expect(randomBytesFromPool(10_000)).toHaveLength(10_000);
  });

  it('is not a constant stream: byte values are spread over 0..255', () => {
    const counts = new Array<number>(256).fill(0);
    for (const byte of randomBytesFromPool(1000)) counts[byte]! += 1;
    expect(counts.filter((count) => count > 0).length).toBeGreaterThan(200);
  });
});
