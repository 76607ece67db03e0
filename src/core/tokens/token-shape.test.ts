import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeJwsHeader, hasCompactJwsShape, isCanonicalCompactJws } from './token-shape.js';

const roundTrip = (segment: string) => Buffer.from(segment, 'base64url').toString('base64url') === segment;
const segment = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');

describe('token shape', () => {
  it('JW-15: the canonical-spelling check gives the decode-and-re-encode answer on every segment', () => {
    const characters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ .é';
    let canonical = 0;
    for (let sample = 0; sample < 50_000; sample += 1) {
      const length = randomInt(0, 13);
      // Mostly base64url characters, so that both answers are well represented.
      const text = Array.from({ length }, () => characters[randomInt(0, sample % 5 === 0 ? characters.length : 64)]).join('');
      const expected = text.split('.').every(roundTrip);
      if (expected) canonical += 1;
      expect(isCanonicalCompactJws(text), JSON.stringify(text)).toBe(expected);
    }
    expect(canonical).toBeGreaterThan(5_000);
    expect(canonical).toBeLessThan(45_000);
  });

  it('JW-15: a token with a re-spelled last character is refused; the original passes', () => {
    const token = `${segment({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' })}.${segment({ sub: 'usr_1' })}.${Buffer.alloc(64, 7).toString('base64url')}`;
    expect(hasCompactJwsShape(token) && isCanonicalCompactJws(token)).toBe(true);
    // 64 bytes encode to 86 characters (4n + 2): the last one carries 4 unused bits.
    const last = token.at(-1)!;
    const twin = `${token.slice(0, -1)}${String.fromCharCode(last.charCodeAt(0) + 1)}`;
    expect(Buffer.from(twin.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
    expect(isCanonicalCompactJws(twin)).toBe(false);
  });

  it('decodes the protected header once per spelling, frozen, and never more than a few at a time', () => {
    const header = segment({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' });
    const first = decodeJwsHeader(`${header}.a.b`);
    expect(first).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' });
    expect(decodeJwsHeader(`${header}.c.d`)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    for (let index = 0; index < 200; index += 1) expect(decodeJwsHeader(`${segment({ alg: 'EdDSA', kid: `k${index}` })}.a.b`)?.['kid']).toBe(`k${index}`);
    expect(decodeJwsHeader(`${header}.e.f`)).toEqual(first);
  });

  it('a header that is not a JSON object is no header', () => {
    for (const text of ['[1,2]', '"kid"', 'null', '12', '{"alg":', '']) {
      expect(decodeJwsHeader(`${Buffer.from(text).toString('base64url')}.a.b`), text).toBeUndefined();
      expect(decodeJwsHeader(`${Buffer.from(text).toString('base64url')}.a.b`), `${text}, again`).toBeUndefined();
    }
  });
});
