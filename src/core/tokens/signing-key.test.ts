import { calculateJwkThumbprint, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, importSigningKey, publicPartOf } from './signing-key.js';

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

describe('generateSigningKey()', () => {
  it('JW-03: makes an Ed25519 key for EdDSA with a public JWK free of private members', async () => {
    const key = await generateSigningKey('EdDSA');
    expect(key.alg).toBe('EdDSA');
    expect(key.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: key.kid });
    for (const member of privateMembers) expect(key.publicJwk).not.toHaveProperty(member);
    expect(key.privateJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: key.kid });
    expect(typeof key.privateJwk.d).toBe('string');
  });

  it('JW-03: makes a P-256 key for ES256 with a public JWK free of private members', async () => {
    const key = await generateSigningKey('ES256');
    expect(key.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: key.kid });
    expect(typeof key.publicJwk.x).toBe('string');
    expect(typeof key.publicJwk.y).toBe('string');
    for (const member of privateMembers) expect(key.publicJwk).not.toHaveProperty(member);
    expect(typeof key.privateJwk.d).toBe('string');
  });

  it('uses the RFC 7638 SHA-256 thumbprint of the public key as kid', async () => {
    const key = await generateSigningKey('EdDSA');
    expect(key.kid).toBe(await calculateJwkThumbprint(publicPartOf(key.privateJwk), 'sha256'));
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('gives each new key a new kid', async () => {
    const first = await generateSigningKey('EdDSA');
    const second = await generateSigningKey('EdDSA');
    expect(first.kid).not.toBe(second.kid);
    expect(first.privateJwk.d).not.toBe(second.privateJwk.d);
  });
});

describe('importSigningKey()', () => {
  it('imports a key that can sign (with the private JWK) and verify', async () => {
    const generated = await generateSigningKey('ES256');
    const key = await importSigningKey(generated);
    expect(key.kid).toBe(generated.kid);
    expect(key.alg).toBe('ES256');
    expect(key.publicKey.type).toBe('public');
    expect(key.privateKey?.type).toBe('private');
  });

  it('imports a verify-only key without a private JWK', async () => {
    const generated = await generateSigningKey('EdDSA');
    const key = await importSigningKey({ alg: 'EdDSA', publicJwk: generated.publicJwk });
    expect(key.privateKey).toBeUndefined();
    expect(key.publicKey.type).toBe('public');
  });

  it('makes a public key even when handed a JWK with private members as the public part', async () => {
    const generated = await generateSigningKey('EdDSA');
    const key = await importSigningKey({ alg: 'EdDSA', publicJwk: generated.privateJwk });
    expect(key.publicKey.type).toBe('public');
  });

  it('refuses a public JWK without a kid', async () => {
    const generated = await generateSigningKey('EdDSA');
    const { kid: _kid, ...withoutKid } = generated.publicJwk;
    await expect(importSigningKey({ alg: 'EdDSA', publicJwk: withoutKid })).rejects.toThrow(TypeError);
  });

  it('refuses a JWK of another algorithm (one alg per key)', async () => {
    const generated = await generateSigningKey('ES256');
    await expect(importSigningKey({ alg: 'EdDSA', publicJwk: generated.publicJwk })).rejects.toThrow();
  });
});

describe('publicPartOf()', () => {
  it('removes every private member and keeps the rest, without changing its input', () => {
    const jwk: JWK = { kty: 'RSA', n: 'n', e: 'AQAB', d: 'd', p: 'p', q: 'q', dp: 'dp', dq: 'dq', qi: 'qi', kid: 'k1' };
    const copy = { ...jwk };
    expect(publicPartOf(jwk)).toEqual({ kty: 'RSA', n: 'n', e: 'AQAB', kid: 'k1' });
    expect(jwk).toEqual(copy);
    expect(publicPartOf({ kty: 'oct', k: 'secret' })).toEqual({ kty: 'oct' });
  });
});
