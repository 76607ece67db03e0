// The proofs twofold/client makes with WebCrypto alone, checked by an independent implementation:
// Twofold's server-side checker (src/core/dpop, over jose). Also the key: ES256, non-extractable,
// one per client; the app's own pair; and what the SDK refuses to start with.
import { calculateJwkThumbprint, decodeProtectedHeader, decodeJwt } from 'jose';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTwofoldClient, type DpopKeyPair } from '../../src/client/index.js';
import { createDpopProver } from '../../src/client/dpop.js';
import { exportPublicJwk, generateDpopKeyPair, htuOf, signDpopProof } from '../../src/client/dpop-proof.js';
import { parseAuthChallenge } from '../../src/client/response-headers.js';
import { checkDpopProof, createDpopNonces, createMemoryDpopReplayStore, type DpopProofCheckOptions } from '../../src/core/dpop/index.js';

const now = Date.UTC(2026, 11, 7, 12, 0, 0);
const url = 'https://auth.example.com/v1/token/refresh';

function checkOptions(overrides: Partial<DpopProofCheckOptions> = {}): DpopProofCheckOptions {
  return { method: 'POST', url, now, replay: createMemoryDpopReplayStore({ now: () => now }), ...overrides };
}

function memoryProver() {
  return createDpopProver({ option: { store: 'memory' }, keyName: 'https://auth.example.com', now: () => now });
}

describe('twofold/client DPoP proofs verify with src/core/dpop checkDpopProof (jose)', () => {
  it('DP-28: a proof for a token request is accepted; its jkt is the RFC 7638 thumbprint jose computes, and the client reports the same', async () => {
    const prover = memoryProver();
    const proof = await prover.proofFor({ method: 'POST', url });
    const result = await checkDpopProof(proof, checkOptions());
    expect(result.ok).toBe(true);
    const header = decodeProtectedHeader(proof);
    expect(header).toEqual({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) } });
    const jkt = await calculateJwkThumbprint(header.jwk!, 'sha256');
    expect(result).toMatchObject({ ok: true, jkt, iat: now / 1000 });
    expect(await prover.thumbprint()).toBe(jkt);
  });

  it('DP-28: claims are jti (128 random bits, new each time), htm upper case, htu without query and fragment, iat in whole seconds of the client clock', async () => {
    const prover = createDpopProver({ option: { store: 'memory' }, keyName: 'x', now: () => now + 999 });
    const first = decodeJwt(await prover.proofFor({ method: 'get', url: 'https://API.example.com:443/orders/7?page=2#top' }));
    const second = decodeJwt(await prover.proofFor({ method: 'get', url: 'https://api.example.com/orders/7' }));
    expect(first).toEqual({ jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), htm: 'GET', htu: 'https://api.example.com/orders/7', iat: now / 1000 });
    expect(second.jti).not.toBe(first.jti);
    expect(htuOf('http://localhost:8080/a/b?c#d')).toBe('http://localhost:8080/a/b');
    const proof = await prover.proofFor({ method: 'GET', url: 'https://api.example.com/orders/7?page=2' });
    expect(await checkDpopProof(proof, checkOptions({ method: 'GET', url: 'https://api.example.com/orders/7?page=3', now: now + 999 }))).toMatchObject({ ok: true });
    // The signature is the raw 64-byte r||s JWS wants (86 base64url characters), not DER.
    expect(proof.split('.')[2]).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });

  it('DP-28: with a bound access token the proof carries ath = base64url(SHA-256(token)): accepted for that token, refused for another', async () => {
    const prover = memoryProver();
    const proof = await prover.proofFor({ method: 'POST', url, accessToken: 'the-access-token' });
    expect(await checkDpopProof(proof, checkOptions({ accessToken: 'the-access-token' }))).toMatchObject({ ok: true });
    const other = await prover.proofFor({ method: 'POST', url, accessToken: 'the-access-token' });
    expect(await checkDpopProof(other, checkOptions({ accessToken: 'another-token' }))).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
  });

  it('DP-30: the latest DPoP-Nonce of an origin goes into its proofs (accepted by the server nonces), not into another origin\'s', async () => {
    const nonces = createDpopNonces({ secret: randomBytes(32), windowSeconds: 60, now: () => now });
    const prover = memoryProver();
    const withoutNonce = await prover.proofFor({ method: 'POST', url });
    expect(await checkDpopProof(withoutNonce, checkOptions({ nonce: nonces }))).toMatchObject({ ok: false, error: 'use_dpop_nonce' });
    const nonce = nonces.issue();
    expect(prover.rememberNonce(url, new Response(null, { status: 400, headers: { 'DPoP-Nonce': nonce } }))).toBe(true);
    expect(prover.rememberNonce(url, new Response(null, { headers: { 'DPoP-Nonce': nonce } }))).toBe(false);
    expect(prover.rememberNonce(url, new Response(null))).toBe(false);
    expect(await checkDpopProof(await prover.proofFor({ method: 'POST', url }), checkOptions({ nonce: nonces }))).toMatchObject({ ok: true });
    expect(decodeJwt(await prover.proofFor({ method: 'GET', url: 'https://api.example.com/x' })).nonce).toBeUndefined();
  });

  it('DP-29: the key pair the SDK makes is ES256 with a non-extractable private key; the public jwk is only kty/crv/x/y', async () => {
    const { privateKey, publicKey } = await generateDpopKeyPair();
    expect(privateKey.extractable).toBe(false);
    expect(privateKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    await expect(globalThis.crypto.subtle.exportKey('jwk', privateKey)).rejects.toThrow();
    await expect(globalThis.crypto.subtle.exportKey('pkcs8', privateKey)).rejects.toThrow();
    expect(Object.keys(await exportPublicJwk(publicKey)).sort()).toEqual(['crv', 'kty', 'x', 'y']);
  });

  it('DP-29: an app-supplied ES256 key pair signs the proofs (its thumbprint); any other key type is refused at creation', async () => {
    const keyPair = await generateDpopKeyPair();
    const client = createTwofoldClient({ baseUrl: 'https://auth.example.com', dpop: { keyPair } });
    const expected = await calculateJwkThumbprint(await exportPublicJwk(keyPair.publicKey), 'sha256');
    expect(await client.dpopThumbprint()).toBe(expected);
    const direct = await signDpopProof(keyPair, await exportPublicJwk(keyPair.publicKey), { method: 'POST', url, issuedAtSeconds: now / 1000 });
    expect(await checkDpopProof(direct, checkOptions())).toMatchObject({ ok: true, jkt: expected });

    const ed25519 = (await globalThis.crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as DpopKeyPair;
    const p384 = (await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify'])) as DpopKeyPair;
    for (const wrong of [ed25519, p384]) expect(() => createTwofoldClient({ baseUrl: 'https://auth.example.com', dpop: { keyPair: wrong } })).toThrow(TypeError);
  });

  it('DP-29: dpop true in Node keeps one key per client in memory; store "indexeddb" without IndexedDB is refused at creation; without dpop there is no thumbprint', async () => {
    const client = createTwofoldClient({ baseUrl: 'https://auth.example.com', dpop: true });
    const jkt = await client.dpopThumbprint();
    expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await client.dpopThumbprint()).toBe(jkt);
    expect(await createTwofoldClient({ baseUrl: 'https://auth.example.com', dpop: true }).dpopThumbprint()).not.toBe(jkt);
    expect(() => createTwofoldClient({ baseUrl: 'https://auth.example.com', dpop: { store: 'indexeddb' } })).toThrow(/IndexedDB/);
    expect(await createTwofoldClient({ baseUrl: 'https://auth.example.com' }).dpopThumbprint()).toBeUndefined();
    expect(await createTwofoldClient({ baseUrl: 'https://auth.example.com', dpop: false }).dpopThumbprint()).toBeUndefined();
  });

  it('DP-30: parseAuthChallenge() reads the DPoP challenge next to a Bearer one', () => {
    const header = 'Bearer realm="api", DPoP error="use_dpop_nonce", error_description="a fresh DPoP nonce is required", algs="ES256 EdDSA"';
    expect(parseAuthChallenge(header, 'DPoP')).toEqual({ error: 'use_dpop_nonce', error_description: 'a fresh DPoP nonce is required', algs: 'ES256 EdDSA' });
    expect(parseAuthChallenge(header, 'Bearer')).toEqual({ realm: 'api' });
    expect(parseAuthChallenge('Bearer error="invalid_token"', 'DPoP')).toBeUndefined();
  });
});
