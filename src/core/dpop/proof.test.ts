// The DPoP proof checker on real keys (ES256, Ed25519, RSA for an unaccepted alg): proofs made by
// jose here and by an independent implementation (openid-client, over oauth4webapi) are
// accepted; every attack is refused with the RFC's error — as a result, never a throw — and an
// invalid proof never burns a jti.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { calculateJwkThumbprint, generateKeyPair } from 'jose';
import * as openidClient from 'openid-client';
import { describe, expect, it } from 'vitest';
import { sha256Base64url } from '../crypto/digest.js';
import { createDpopNonces } from './nonces.js';
import { checkDpopProof, maxDpopProofLength, type DpopProofCheckOptions } from './proof.js';
import { createMemoryDpopReplayStore } from './replay-store.js';
import { createDpopTestKey, makeDpopProof, unsignedJws, type DpopProofParts } from '../../../test/helpers/dpop-proofs.js';

const now = Date.UTC(2026, 11, 7, 12, 0, 0);
const nowSeconds = Math.floor(now / 1000);
const url = 'https://auth.example.com/v1/token/refresh';

const es256 = await createDpopTestKey('ES256');
const ed25519 = await createDpopTestKey('EdDSA');
const proofKey = createDpopTestKey;

function makeProof(parts: Partial<DpopProofParts> = {}): Promise<string> {
  return makeDpopProof({ key: es256, htm: 'POST', htu: url, iat: nowSeconds, ...parts });
}

function options(overrides: Partial<DpopProofCheckOptions> = {}): DpopProofCheckOptions {
  return { method: 'POST', url, now, replay: createMemoryDpopReplayStore({ now: () => now }), ...overrides };
}

describe('DPoP proofs (RFC 9449 §4.3)', () => {
  it('DP-03: an ES256 and an Ed25519 proof are accepted; jkt is the RFC 7638 thumbprint of the jwk', async () => {
    for (const key of [es256, ed25519]) {
      const result = await checkDpopProof(await makeProof({ key }), options());
      expect(result).toMatchObject({ ok: true, jkt: await calculateJwkThumbprint(key.publicJwk, 'sha256'), iat: nowSeconds });
    }
  });

  it('DP-03: a proof made by openid-client (an independent implementation, over oauth4webapi) is accepted, with ath and a query in the URL', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const config = new openidClient.Configuration({ issuer: 'https://auth.example.com' }, 'a-client');
    const captured: string[] = [];
    config[openidClient.customFetch] = (_url, init) => {
      captured.push(new Headers(init.headers).get('dpop') ?? '');
      return Promise.resolve(new Response('{}', { status: 200 }));
    };
    const handle = openidClient.getDPoPHandle(config, { privateKey, publicKey });
    await openidClient.fetchProtectedResource(config, 'the-access-token', new URL(`${url}?page=2#top`), 'GET', undefined, undefined, { DPoP: handle });
    expect(captured).toHaveLength(1);
    const result = await checkDpopProof(captured[0], options({ method: 'GET', url: `${url}?page=2`, now: Date.now(), accessToken: 'the-access-token' }));
    expect(result).toMatchObject({ ok: true, jkt: await handle.calculateThumbprint() });
  });

  it('DP-04: a proof whose typ is not dpop+jwt is refused', async () => {
    for (const typ of ['JWT', 'at+jwt', 'application/dpop+jwt', undefined]) {
      expect(await checkDpopProof(await makeProof({ header: { typ } }), options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    }
  });

  it('DP-04: alg none is refused, with an empty or a made-up signature', async () => {
    const header = { typ: 'dpop+jwt', alg: 'none', jwk: es256.publicJwk };
    const payload = { jti: 'x', htm: 'POST', htu: url, iat: nowSeconds };
    for (const proof of [unsignedJws(header, payload), unsignedJws(header, payload, 'AAAA')]) {
      expect(await checkDpopProof(proof, options({ allowedAlgs: ['none', 'ES256'] }))).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    }
  });

  it('DP-04: HS256 keyed with the jwk itself is refused, even when a caller lists HS256', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(es256.publicJwk));
    const proof = await makeProof({ header: { alg: 'HS256' }, signWith: secret });
    for (const allowedAlgs of [undefined, ['HS256', 'ES256']]) {
      expect(await checkDpopProof(proof, options({ allowedAlgs }))).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    }
  });

  it('DP-04: an RS256 proof (an alg not in the default allow list) is refused; an EC key claiming EdDSA is refused', async () => {
    expect(await checkDpopProof(await makeProof({ key: await proofKey('RS256') }), options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    expect(await checkDpopProof(await makeProof({ key: ed25519, header: { jwk: es256.publicJwk } }), options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
  });

  it('DP-04: a key must be of its alg\'s own type — an Ed448 key under EdDSA, a P-384 key or a point off the curve under ES256 are refused; a critical header extension is refused', async () => {
    // jose will not sign EdDSA with Ed448; the key is judged before the signature, so any will do.
    const ed448Jwk = generateKeyPairSync('ed448').publicKey.export({ format: 'jwk' });
    const ed448Proof = unsignedJws({ typ: 'dpop+jwt', alg: 'EdDSA', jwk: ed448Jwk }, { jti: 'j', htm: 'POST', htu: url, iat: nowSeconds }, randomBytes(114).toString('base64url'));
    expect(await checkDpopProof(ed448Proof, options())).toMatchObject({ ok: false, description: 'the DPoP proof jwk is not a public key for its alg' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    expect(await checkDpopProof(await makeProof({ header: { jwk: p384 } }), options())).toMatchObject({ ok: false, description: 'the DPoP proof jwk is not a public key for its alg' });
    const offCurve = { ...es256.publicJwk, y: Buffer.alloc(32, 7).toString('base64url') };
    expect(await checkDpopProof(await makeProof({ header: { jwk: offCurve } }), options())).toMatchObject({ ok: false, description: 'the DPoP proof jwk is not a public key for its alg' });
    expect(await checkDpopProof(await makeProof({ header: { crit: ['b64'], b64: true } }), options())).toMatchObject({ ok: false, description: 'the DPoP proof names critical header extensions' });
  });

  it('DP-03: members beyond RFC 7638\'s (kid, use, alg) do not change the key: jkt is the thumbprint jose computes; a proof expired by its own exp is refused', async () => {
    const proof = await makeProof({ header: { jwk: { ...es256.publicJwk, kid: 'client-key', use: 'sig', alg: 'ES256' } } });
    expect(await checkDpopProof(proof, options())).toMatchObject({ ok: true, jkt: await calculateJwkThumbprint(es256.publicJwk, 'sha256') });
    expect(await checkDpopProof(await makeProof({ claims: { exp: nowSeconds - 30 } }), options())).toMatchObject({ ok: false, description: 'the DPoP proof has expired' });
  });

  it('DP-05: a jwk holding private key material is refused (EC d, RSA primes, a symmetric k)', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privateJwk = privateKey.export({ format: 'jwk' });
    expect(await checkDpopProof(await makeProof({ header: { jwk: privateJwk }, signWith: privateKey }), options())).toMatchObject({
      ok: false,
      error: 'invalid_dpop_proof',
    });
    for (const member of ['p', 'q', 'dp', 'dq', 'qi', 'k']) {
      const proof = await makeProof({ header: { jwk: { ...es256.publicJwk, [member]: 'AQAB' } } });
      expect(await checkDpopProof(proof, options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof', description: 'the DPoP proof jwk must be a public key' });
    }
    expect(await checkDpopProof(await makeProof({ header: { jwk: undefined } }), options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
  });

  it('DP-05: a proof signed by another key than its jwk is refused', async () => {
    const other = await proofKey('ES256');
    expect(await checkDpopProof(await makeProof({ signWith: other.privateKey }), options())).toMatchObject({
      ok: false,
      error: 'invalid_dpop_proof',
      description: 'the DPoP proof signature does not verify with its jwk',
    });
  });

  it('DP-06: htm must be the request method', async () => {
    expect(await checkDpopProof(await makeProof({ claims: { htm: 'GET' } }), options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    expect(await checkDpopProof(await makeProof({ claims: { htm: 'post' } }), options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    expect(await checkDpopProof(await makeProof({ claims: { htm: undefined } }), options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
  });

  it('DP-06: htu for another path, host, port or scheme is refused', async () => {
    for (const htu of [
      'https://auth.example.com/v1/token/refresh/x',
      'https://auth.example.com/v1/mfa/verify',
      'https://evil.example.com/v1/token/refresh',
      'http://auth.example.com/v1/token/refresh',
      'https://auth.example.com:8443/v1/token/refresh',
      'auth.example.com/v1/token/refresh',
      '/v1/token/refresh',
    ]) {
      expect(await checkDpopProof(await makeProof({ claims: { htu } }), options()), htu).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    }
  });

  it('DP-06: htu is compared normalized — query and fragment ignored, scheme and host case, the default port', async () => {
    const forms: [string, string][] = [
      [`${url}?a=1#f`, url],
      [url, `${url}?grant=1`],
      ['HTTPS://Auth.Example.COM:443/v1/token/refresh', url],
      [url, 'https://auth.example.com:443/v1/token/refresh'],
      ['http://localhost:80/v1/token/refresh', 'http://LOCALHOST/v1/token/refresh'],
    ];
    for (const [htu, requestUrl] of forms) {
      expect(await checkDpopProof(await makeProof({ claims: { htu } }), options({ url: requestUrl })), `${htu} for ${requestUrl}`).toMatchObject({ ok: true });
    }
  });

  it('DP-07: iat older than the window, or further ahead than the skew, is refused (injected clock)', async () => {
    const at = (iat: number | undefined) => makeProof({ claims: { iat } });
    expect(await checkDpopProof(await at(nowSeconds - 61), options())).toMatchObject({ ok: false, description: 'the DPoP proof is too old' });
    expect(await checkDpopProof(await at(nowSeconds - 60), options())).toMatchObject({ ok: true });
    expect(await checkDpopProof(await at(nowSeconds + 6), options())).toMatchObject({ ok: false, description: 'the DPoP proof iat is in the future' });
    expect(await checkDpopProof(await at(nowSeconds + 5), options())).toMatchObject({ ok: true });
    expect(await checkDpopProof(await at(undefined), options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    expect(await checkDpopProof(await at(nowSeconds - 20), options({ maxAgeSeconds: 10 }))).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
  });

  it('DP-08: a proof without jti, or with an over-long one, is refused', async () => {
    expect(await checkDpopProof(await makeProof({ claims: { jti: undefined } }), options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    expect(await checkDpopProof(await makeProof({ claims: { jti: 'j'.repeat(257) } }), options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
  });

  it('DP-08: a replayed proof is refused; the same jti under another key is a different proof', async () => {
    const replay = createMemoryDpopReplayStore({ now: () => now });
    const proof = await makeProof({ claims: { jti: 'once' } });
    expect(await checkDpopProof(proof, options({ replay }))).toMatchObject({ ok: true, jti: 'once' });
    expect(await checkDpopProof(proof, options({ replay }))).toMatchObject({ ok: false, error: 'invalid_dpop_proof', description: 'the DPoP proof was used already' });
    expect(await checkDpopProof(await makeProof({ key: ed25519, claims: { jti: 'once' } }), options({ replay }))).toMatchObject({ ok: true });
  });

  it('DP-08: proofs that fail a check do not burn their jti (bad signature, wrong htu, wrong nonce)', async () => {
    const replay = createMemoryDpopReplayStore({ now: () => now });
    const nonces = createDpopNonces({ secret: randomBytes(32), windowSeconds: 60, now: () => now });
    const jti = 'victim-jti';
    const forged = await makeProof({ claims: { jti }, signWith: (await proofKey('ES256')).privateKey });
    const genuine = await makeProof({ claims: { jti, nonce: nonces.issue() } });
    const [header, payload] = genuine.split('.');
    const tampered = `${header}.${payload}.${(await makeProof()).split('.')[2]}`;
    expect(await checkDpopProof(forged, options({ replay }))).toMatchObject({ ok: false });
    expect(await checkDpopProof(tampered, options({ replay }))).toMatchObject({ ok: false });
    expect(await checkDpopProof(genuine, options({ replay, url: 'https://auth.example.com/other' }))).toMatchObject({ ok: false });
    const otherNonces = createDpopNonces({ secret: randomBytes(32), windowSeconds: 60, now: () => now });
    expect(await checkDpopProof(genuine, options({ replay, nonce: otherNonces }))).toMatchObject({ ok: false, error: 'use_dpop_nonce' });
    expect(await checkDpopProof(genuine, options({ replay, nonce: nonces }))).toMatchObject({ ok: true, jti });
  });

  it('DP-09: with an access token, ath must be its SHA-256 (missing or another token\'s → refused)', async () => {
    const accessToken = 'eyJhbGciOiJFUzI1NiJ9.e30.sig';
    expect(await checkDpopProof(await makeProof({ claims: { ath: sha256Base64url(accessToken) } }), options({ accessToken }))).toMatchObject({ ok: true });
    expect(await checkDpopProof(await makeProof(), options({ accessToken }))).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    expect(await checkDpopProof(await makeProof({ claims: { ath: sha256Base64url('another token') } }), options({ accessToken }))).toMatchObject({
      ok: false,
      error: 'invalid_dpop_proof',
      description: 'the DPoP proof ath does not match the access token',
    });
  });

  it('DP-10: when a nonce is required, a missing, stale or forged one → use_dpop_nonce; the current and previous windows are accepted', async () => {
    let clock = now;
    const secret = randomBytes(32);
    const nonces = createDpopNonces({ secret, windowSeconds: 60, now: () => clock });
    const issued = nonces.issue();
    const check = async (nonce: string | undefined) => checkDpopProof(await makeProof({ claims: { nonce, iat: Math.floor(clock / 1000) } }), options({ now: clock, nonce: nonces }));
    expect(await check(undefined)).toMatchObject({ ok: false, error: 'use_dpop_nonce' });
    expect(await check('forged-nonce')).toMatchObject({ ok: false, error: 'use_dpop_nonce' });
    expect(await check(createDpopNonces({ secret: randomBytes(32), windowSeconds: 60, now: () => clock }).issue())).toMatchObject({ ok: false, error: 'use_dpop_nonce' });
    expect(await check(issued)).toMatchObject({ ok: true });
    clock += 60_000;
    expect(await check(issued)).toMatchObject({ ok: true });
    clock += 60_000;
    expect(await check(issued)).toMatchObject({ ok: false, error: 'use_dpop_nonce' });
    expect(await check(nonces.issue())).toMatchObject({ ok: true });
  });

  it('DP-11: a proof over the size limit is refused before it is parsed; malformed input is a refusal, never a throw', async () => {
    const big = await makeProof({ claims: { padding: 'x'.repeat(maxDpopProofLength) } });
    expect(await checkDpopProof(big, options())).toMatchObject({ ok: false, description: 'the DPoP proof is too large' });
    const proof = await makeProof();
    for (const input of [undefined, '', 42, `${proof}.${proof}`, `${proof},${proof}`, ` ${proof}`, 'a.b.c', '{}.{}.{}']) {
      expect(await checkDpopProof(input, options())).toMatchObject({ ok: false, error: 'invalid_dpop_proof' });
    }
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), fc.jsonValue(), async (text, header) => {
        const result = await checkDpopProof(`${text}`, options());
        const crafted = await checkDpopProof(unsignedJws(header, {}, 'AAAA'), options());
        return !result.ok && !crafted.ok;
      }),
      { numRuns: 200 },
    );
  });
});
