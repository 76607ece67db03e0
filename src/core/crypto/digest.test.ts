import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacSha256Base64url, sha256Base64url } from './digest.js';

describe('sha256Base64url()', () => {
  it('matches the FIPS 180-2 test vector for "abc"', () => {
    expect(Buffer.from(sha256Base64url('abc'), 'base64url').toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('is unpadded base64url of 32 bytes and deterministic', () => {
    const digest = sha256Base64url('tfr_example');
    expect(digest).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sha256Base64url('tfr_example')).toBe(digest);
    expect(sha256Base64url('tfr_examplf')).not.toBe(digest);
  });

  it('hashes the UTF-8 encoding', () => {
    expect(sha256Base64url('ключ')).toBe(createHash('sha256').update(Buffer.from('ключ', 'utf8')).digest('base64url'));
  });
});

describe('hmacSha256Base64url()', () => {
  it('matches RFC 4231 test case 2', () => {
    const digest = hmacSha256Base64url(Buffer.from('Jefe'), 'what do ya want for nothing?');
    expect(Buffer.from(digest, 'base64url').toString('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('depends on the key', () => {
    const value = '123456';
    expect(hmacSha256Base64url(Buffer.alloc(32, 1), value)).not.toBe(hmacSha256Base64url(Buffer.alloc(32, 2), value));
  });

  it('is deterministic and differs from the unkeyed digest', () => {
    const key = Buffer.alloc(32, 7);
    expect(hmacSha256Base64url(key, 'code')).toBe(hmacSha256Base64url(key, 'code'));
    expect(hmacSha256Base64url(key, 'code')).toBe(createHmac('sha256', key).update('code').digest('base64url'));
    expect(hmacSha256Base64url(key, 'code')).not.toBe(sha256Base64url('code'));
  });
});
