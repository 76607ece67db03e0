import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from './verified-token-cache.js';

interface Claims {
  exp: number;
  sub: string;
}

const claims = (sub: string, exp = 1_000): Claims => ({ exp, sub });

describe('VerifiedTokenCache', () => {
  it('get() misses for a token never set', () => {
    const cache = new VerifiedTokenCache<Claims>(10);
    expect(cache.get('token', 0, 60)).toBeUndefined();
  });

  it('get() hits with the cached claims until exp + skew', () => {
    const cache = new VerifiedTokenCache<Claims>(10);
    cache.set('token', claims('usr_1', 1_000));
    expect(cache.get('token', 500, 60)).toEqual(claims('usr_1', 1_000));
    expect(cache.get('token', 1_000, 60)).toEqual(claims('usr_1', 1_000));
    expect(cache.get('token', 1_059, 60)).toEqual(claims('usr_1', 1_000));
  });

  it('JW-08: get() misses from exp + skew on, and drops the expired entry', () => {
    const cache = new VerifiedTokenCache<Claims>(10);
    cache.set('token', claims('usr_1', 1_000));
    expect(cache.get('token', 1_060, 60)).toBeUndefined();
    expect(cache.size).toBe(0);
    // Once dropped it stays a miss, even for an earlier clock.
    expect(cache.get('token', 500, 60)).toBeUndefined();
  });

  it('JW-08: with zero skew, misses at exp', () => {
    const cache = new VerifiedTokenCache<Claims>(10);
    cache.set('token', claims('usr_1', 1_000));
    expect(cache.get('token', 999, 0)).toBeDefined();
    expect(cache.get('token', 1_000, 0)).toBeUndefined();
  });

  it('keys by the whole token string: another token is a miss', () => {
    const cache = new VerifiedTokenCache<Claims>(10);
    cache.set('aaa.bbb.ccc', claims('usr_1'));
    expect(cache.get('aaa.bbb.ccd', 0, 60)).toBeUndefined();
    expect(cache.get('aaa.bbb.cc', 0, 60)).toBeUndefined();
  });

  it('evicts the least recently set entry when maxEntries is exceeded', () => {
    const cache = new VerifiedTokenCache<Claims>(2);
    cache.set('a', claims('a'));
    cache.set('b', claims('b'));
    cache.set('c', claims('c'));
    expect(cache.size).toBe(2);
    expect(cache.get('a', 0, 60)).toBeUndefined();
    expect(cache.get('b', 0, 60)?.sub).toBe('b');
    expect(cache.get('c', 0, 60)?.sub).toBe('c');
  });

  it('LRU: a get() refreshes an entry so the untouched one is evicted instead', () => {
    const cache = new VerifiedTokenCache<Claims>(2);
    cache.set('a', claims('a'));
    cache.set('b', claims('b'));
    expect(cache.get('a', 0, 60)?.sub).toBe('a');
    cache.set('c', claims('c'));
    expect(cache.get('b', 0, 60)).toBeUndefined();
    expect(cache.get('a', 0, 60)?.sub).toBe('a');
    expect(cache.get('c', 0, 60)?.sub).toBe('c');
  });

  it('setting the same token again replaces it without growing the cache', () => {
    const cache = new VerifiedTokenCache<Claims>(2);
    cache.set('a', claims('a', 1_000));
    cache.set('a', claims('a', 2_000));
    cache.set('b', claims('b'));
    expect(cache.size).toBe(2);
    expect(cache.get('a', 1_500, 0)?.exp).toBe(2_000);
  });

  it('with maxEntries 0 caches nothing', () => {
    const cache = new VerifiedTokenCache<Claims>(0);
    cache.set('a', claims('a'));
    expect(cache.size).toBe(0);
    expect(cache.get('a', 0, 60)).toBeUndefined();
  });

  it('clear() empties the cache', () => {
    const cache = new VerifiedTokenCache<Claims>(10);
    cache.set('a', claims('a'));
    cache.set('b', claims('b'));
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get('a', 0, 60)).toBeUndefined();
  });

  it('never holds more than maxEntries after many inserts', () => {
    const cache = new VerifiedTokenCache<Claims>(100);
    for (let index = 0; index < 1_000; index += 1) cache.set(`token-${index}`, claims(String(index)));
    expect(cache.size).toBe(100);
    expect(cache.get('token-899', 0, 60)).toBeUndefined();
    expect(cache.get('token-900', 0, 60)?.sub).toBe('900');
    expect(cache.get('token-999', 0, 60)?.sub).toBe('999');
  });
});

describe('VerifiedTokenCache: recency under churn', () => {
  it('keeps the most recently used entries, whatever order they are hit and set in', () => {
    const cache = new VerifiedTokenCache<Claims>(3);
    for (const token of ['a', 'b', 'c']) cache.set(token, claims(token));
    expect(cache.get('a', 0, 60)).toBeDefined(); // order now b, c, a
    cache.set('d', claims('d')); // evicts b
    expect(cache.get('b', 0, 60)).toBeUndefined();
    expect(cache.get('c', 0, 60)).toBeDefined(); // order a, d, c
    cache.set('a', claims('a', 2_000)); // refreshes a: order d, c, a
    cache.set('e', claims('e')); // evicts d
    expect(cache.get('d', 0, 60)).toBeUndefined();
    expect(cache.get('a', 0, 60)).toEqual(claims('a', 2_000));
    expect(cache.size).toBe(3);
  });

  it('stays consistent through thousands of random hits, sets and expiries (model check)', () => {
    const cache = new VerifiedTokenCache<Claims>(50);
    const model: string[] = []; // least recently used first
    let seed = 7;
    const random = (limit: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % limit;
    for (let step = 0; step < 20_000; step += 1) {
      const token = `t${random(80)}`;
      if (random(3) === 0) {
        cache.set(token, claims(token, random(10) === 0 ? 0 : 1_000));
        const at = model.indexOf(token);
        if (at !== -1) model.splice(at, 1);
        model.push(token);
        if (model.length > 50) model.shift();
      } else {
        const hit = cache.get(token, 100, 0);
        const at = model.indexOf(token);
        if (at !== -1) {
          model.splice(at, 1);
          // Entries set with exp 0 are expired at time 100 and dropped on sight.
          if (hit !== undefined) model.push(token);
        } else {
          expect(hit).toBeUndefined();
        }
      }
      expect(cache.size).toBe(model.length);
    }
  });
});
