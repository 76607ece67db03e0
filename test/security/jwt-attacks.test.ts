// Attacker-style tests against Twofold's JWT handling (JW-01..JW-15, FL-02/04/06).
// Every forged token is sent to a running server (real SQLite, real keys, app.inject) and must be
// refused with 401 problem+json `invalid_token` — never a 500, never a token. Where a test needs
// "the right key but the wrong claims" it signs with the server's own private key from the key
// ring, and a positive control first shows that the same harness with the right claims is accepted,
// so a refusal means the claim was checked and not that the forgery was broken.
import { createPublicKey, webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, registerUser, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { startTestTwofold, testPublicUrl, type TestTwofold } from '../helpers/twofold.js';
import { assemble, b64u, b64uJson, hmacToken, p256Order, partsOf, realKeyOf, signWithRealKey, to32Bytes, type Header, type RealKey } from '../helpers/jwt-forgery.js';

// ---------------------------------------------------------------------------------------------
// Helpers: token surgery and signing

const accessHeader = (key: RealKey): Header => ({ alg: key.alg, kid: key.kid, typ: 'at+jwt' });
const mfaHeader = (key: RealKey): Header => ({ alg: key.alg, kid: key.kid, typ: 'mfa+jwt' });

function expectInvalidToken(response: LightMyRequestResponse): void {
  expectProblem(response, 401, 'invalid_token');
  expect(response.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  expect(response.body).not.toContain('access_token');
}

function neverTokens(response: LightMyRequestResponse): void {
  expect(response.statusCode, response.body).toBeLessThan(500);
  expect(response.body).not.toMatch(/"access_token"|"refresh_token"/);
}

/** A 6-digit code that matches none of the steps T-2..T+2, so it is wrong whatever the window. */
function wrongCode(t: TestTwofold, secret: string): string {
  const near = new Set([-2, -1, 0, 1, 2].map((offset) => totpCode(t, secret, offset)));
  for (let n = 0; ; n += 1) {
    const candidate = String((123457 + n * 7919) % 1_000_000).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}

// ---------------------------------------------------------------------------------------------
// The EdDSA server (default configuration)

describe('JWT attacks against the default (EdDSA) server', () => {
  let t: TestTwofold;
  let key: RealKey;
  let victim: SignedUp;
  let accessToken: string;
  let accessClaims: JWTPayload;
  /** A live mfa_token of a user with an active factor (login → next: verify). */
  let mfaToken: string;
  let mfaClaims: JWTPayload;

  const me = (token: string) => getJson(t.app, '/v1/me', bearer(token));
  /** The victim's correct, unused code: if a forged mfa_token were accepted, this would mint tokens. */
  const mfaVerify = (token: string) => postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, victim.secret) }, bearer(token));

  async function expectRefusedAtMe(token: string): Promise<void> {
    expectInvalidToken(await me(token));
  }
  async function expectRefusedAtMfaVerify(token: string): Promise<void> {
    expectInvalidToken(await mfaVerify(token));
  }

  beforeAll(async () => {
    t = await startTestTwofold();
    key = await realKeyOf(t);
    victim = await signUp(t);
    accessToken = victim.accessToken;
    accessClaims = decodeJwt(accessToken);
    // A new step, so the victim's current code is unused and would really work with a valid token.
    t.clock.advanceSeconds(30);
    mfaToken = await loginForMfaToken(t, victim);
    mfaClaims = decodeJwt(mfaToken);
  });
  afterAll(async () => t.close());

  describe('controls (the harness itself works)', () => {
    it('the real access token is accepted at /v1/me', async () => {
      expect((await me(accessToken)).statusCode).toBe(200);
    });

    it('the real access token re-signed with the real key and the same claims is accepted', async () => {
      // iat moved by a second so the token is a new string (Ed25519 is deterministic) and really goes through verification.
      const resigned = await signWithRealKey(key, accessHeader(key), { ...accessClaims, iat: (accessClaims.iat ?? 0) - 1 });
      expect(resigned).not.toBe(accessToken);
      const response = await me(resigned);
      expect(response.statusCode, response.body).toBe(200);
    });

    it('the real mfa_token re-signed with the real key passes authentication (403 forbidden, not 401, at POST /v1/factors)', async () => {
      // POST /v1/factors authenticates the mfa_token, then refuses because a factor is active:
      // a 403 proves the token was accepted without consuming the pending session.
      const resigned = await signWithRealKey(key, mfaHeader(key), { ...mfaClaims, iat: (mfaClaims.iat ?? 0) - 1 });
      expect(resigned).not.toBe(mfaToken);
      expectProblem(await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(resigned)), 403, 'forbidden');
      expectProblem(await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(mfaToken)), 403, 'forbidden');
    });
  });

  describe('JW-01: the signature is always verified', () => {
    const tamperings: Array<[string, (payload: JWTPayload) => JWTPayload]> = [
      ['sub changed to another user', (payload) => ({ ...payload, sub: 'usr_someone_else' })],
      ['exp pushed a year ahead', (payload) => ({ ...payload, exp: (payload.exp ?? 0) + 365 * 24 * 3600 })],
      ['amr/acr raised', (payload) => ({ ...payload, acr: 'aal3', amr: ['pwd', 'hwk', 'mfa'] })],
      ['a harmless extra claim', (payload) => ({ ...payload, admin: true })],
    ];

    it.each(tamperings)('JW-01: access token with tampered payload (%s) and the original signature is refused at /v1/me', async (_name, tamper) => {
      const { h, s, payload } = partsOf(accessToken);
      await expectRefusedAtMe(`${h}.${b64uJson(tamper(payload))}.${s}`);
    });

    it('JW-01: access token with one payload bit flipped is refused', async () => {
      const { h, p, s } = partsOf(accessToken);
      const bytes = Buffer.from(p, 'base64url');
      bytes[10] = (bytes[10] ?? 0) ^ 0x01;
      await expectRefusedAtMe(`${h}.${b64u(bytes)}.${s}`);
    });

    it('JW-01: access token with a signature byte flipped is refused', async () => {
      const { h, p, s } = partsOf(accessToken);
      const signature = Buffer.from(s, 'base64url');
      signature[0] = (signature[0] ?? 0) ^ 0x80;
      await expectRefusedAtMe(`${h}.${p}.${b64u(signature)}`);
    });

    it('JW-01: mfa_token with a tampered payload (raised to aal2) is refused at /v1/mfa/verify and /v1/me', async () => {
      const { h, s, payload } = partsOf(mfaToken);
      const forged = `${h}.${b64uJson({ ...payload, acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] })}.${s}`;
      await expectRefusedAtMfaVerify(forged);
      await expectRefusedAtMe(forged);
    });

    it('JW-01: header tampered (an extra member) with the original signature is refused', async () => {
      const { header, p, s } = partsOf(accessToken);
      await expectRefusedAtMe(`${b64uJson({ ...header, extra: 1 })}.${p}.${s}`);
    });
  });

  describe('JW-02: alg none (any case) and empty signatures', () => {
    const noneSpellings = ['none', 'None', 'NONE', 'nOnE'];

    it.each(noneSpellings)('JW-02: alg %s with an empty signature is refused at /v1/me', async (alg) => {
      const { header, payload } = partsOf(accessToken);
      await expectRefusedAtMe(assemble({ ...header, alg }, payload, ''));
      await expectRefusedAtMe(`${b64uJson({ ...header, alg })}.${b64uJson(payload)}`);
    });

    it.each(noneSpellings)('JW-02: alg %s keeping the original signature is refused at /v1/me', async (alg) => {
      const { header, p, s } = partsOf(accessToken);
      await expectRefusedAtMe(`${b64uJson({ ...header, alg })}.${p}.${s}`);
    });

    it.each(noneSpellings)('JW-02: mfa_token with alg %s and an empty signature is refused at /v1/mfa/verify', async (alg) => {
      const { header, payload } = partsOf(mfaToken);
      await expectRefusedAtMfaVerify(assemble({ ...header, alg }, payload, ''));
    });

    it('JW-02: alg none without kid/typ (jose UnsecuredJWT shape) is refused', async () => {
      await expectRefusedAtMe(assemble({ alg: 'none' }, accessClaims, ''));
      await expectRefusedAtMfaVerify(assemble({ alg: 'none' }, mfaClaims, ''));
    });

    it('JW-02: the real token with its signature stripped is refused', async () => {
      const { h, p } = partsOf(accessToken);
      await expectRefusedAtMe(`${h}.${p}.`);
      await expectRefusedAtMe(`${h}.${p}`);
      const mfa = partsOf(mfaToken);
      await expectRefusedAtMfaVerify(`${mfa.h}.${mfa.p}.`);
    });

    it('JW-02: empty or missing alg is refused', async () => {
      const { header, p, s } = partsOf(accessToken);
      await expectRefusedAtMe(`${b64uJson({ ...header, alg: '' })}.${p}.${s}`);
      const { alg: _alg, ...withoutAlg } = header;
      await expectRefusedAtMe(`${b64uJson(withoutAlg)}.${p}.${s}`);
    });
  });

  describe('JW-03: no key/algorithm confusion (HS* with the public key as the secret)', () => {
    function publicKeyEncodings(): Array<[string, string | Uint8Array]> {
      const { kty, crv, x } = key.publicJwk;
      const bareJwk = { kty, crv, x };
      const publicKey = createPublicKey({ key: bareJwk as never, format: 'jwk' });
      return [
        ['the published JWK as a JSON string', JSON.stringify(key.publicJwk)],
        ['the bare JWK (kty, crv, x) as a JSON string', JSON.stringify(bareJwk)],
        ['a JWKS document as a JSON string', JSON.stringify({ keys: [key.publicJwk] })],
        ['the raw "x" bytes', Buffer.from(x ?? '', 'base64url')],
        ['the "x" string itself', x ?? ''],
        ['the SPKI PEM', publicKey.export({ type: 'spki', format: 'pem' }) as string],
        ['the SPKI PEM without its final newline', (publicKey.export({ type: 'spki', format: 'pem' }) as string).trimEnd()],
        ['the SPKI DER bytes', publicKey.export({ type: 'spki', format: 'der' })],
      ];
    }

    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      it(`JW-03: ${alg} tokens keyed with the server's public key in every encoding are refused (access at /v1/me, mfa at /v1/mfa/verify)`, async () => {
        for (const [_encoding, secret] of publicKeyEncodings()) {
          await expectRefusedAtMe(hmacToken(alg, { kid: key.kid, typ: 'at+jwt' }, accessClaims, secret));
          await expectRefusedAtMfaVerify(hmacToken(alg, { kid: key.kid, typ: 'mfa+jwt' }, mfaClaims, secret));
        }
      });
    }

    it('JW-03/JW-06: HS256 with an empty key and with common weak secrets is refused', async () => {
      for (const secret of ['', 'secret', 'twofold', 'changeme', testPublicUrl]) {
        await expectRefusedAtMe(hmacToken('HS256', { kid: key.kid, typ: 'at+jwt' }, accessClaims, secret));
      }
    });

    it('JW-03: an ES256 token (attacker key) naming the EdDSA kid is refused: one algorithm per key', async () => {
      const attacker = await generateKeyPair('ES256');
      const forged = await new SignJWT(accessClaims).setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' }).sign(attacker.privateKey);
      await expectRefusedAtMe(forged);
    });
  });

  describe('JW-04: header jwk / jku / x5u / x5c are never trusted nor fetched', () => {
    let canary: Server;
    let canaryUrl: string;
    const canaryRequests: string[] = [];
    let attacker: { privateKey: CryptoKey; publicJwk: JWK; kid: string };

    beforeAll(async () => {
      const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const publicJwk = await exportJWK(pair.publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      attacker = { privateKey: pair.privateKey, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }, kid };
      canary = createServer((request, response) => {
        canaryRequests.push(`${request.method} ${request.url}`);
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys: [attacker.publicJwk] }));
      });
      await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
      canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => canary.close(() => resolve()));
    });

    const signAsAttacker = (header: Header, payload: JWTPayload) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', ...header } as never).sign(attacker.privateKey);

    it('the canary server answers (so zero requests below means "never fetched")', async () => {
      const response = await fetch(`${canaryUrl}/self-check`);
      expect(response.status).toBe(200);
      expect(canaryRequests).toEqual(['GET /self-check']);
      canaryRequests.length = 0;
    });

    it('JW-04: a token signed by an attacker key with that key embedded as "jwk" is refused (with no kid, the real kid, the attacker kid)', async () => {
      for (const kid of [undefined, key.kid, attacker.kid]) {
        const header = { typ: 'at+jwt', jwk: attacker.publicJwk, ...(kid === undefined ? {} : { kid }) };
        await expectRefusedAtMe(await signAsAttacker(header, accessClaims));
        await expectRefusedAtMfaVerify(await signAsAttacker({ ...header, typ: 'mfa+jwt' }, mfaClaims));
      }
    });

    it('JW-04: "jku" pointing at an attacker JWKS is refused and never fetched', async () => {
      for (const kid of [attacker.kid, key.kid]) {
        await expectRefusedAtMe(await signAsAttacker({ typ: 'at+jwt', kid, jku: `${canaryUrl}/jwks.json` }, accessClaims));
        await expectRefusedAtMfaVerify(await signAsAttacker({ typ: 'mfa+jwt', kid, jku: `${canaryUrl}/jwks.json` }, mfaClaims));
      }
      // The real key with a jku: still only our ring decides; the header member changes nothing.
      const withJku = await signWithRealKey(key, { ...accessHeader(key), jku: `${canaryUrl}/jwks-real.json` }, accessClaims);
      expect((await me(withJku)).statusCode).toBeLessThan(500);
      expect(canaryRequests).toEqual([]);
    });

    it('JW-04: "x5u" pointing at an attacker URL is refused and never fetched', async () => {
      await expectRefusedAtMe(await signAsAttacker({ typ: 'at+jwt', kid: attacker.kid, x5u: `${canaryUrl}/cert.pem` }, accessClaims));
      await expectRefusedAtMe(await signAsAttacker({ typ: 'at+jwt', x5u: `${canaryUrl}/cert.pem` }, accessClaims));
      await expectRefusedAtMfaVerify(await signAsAttacker({ typ: 'mfa+jwt', kid: attacker.kid, x5u: `${canaryUrl}/cert.pem` }, mfaClaims));
      expect(canaryRequests).toEqual([]);
    });

    it('JW-04: "x5c" with a bogus chain is refused', async () => {
      const x5c = [Buffer.from('not a certificate').toString('base64')];
      await expectRefusedAtMe(await signAsAttacker({ typ: 'at+jwt', kid: attacker.kid, x5c }, accessClaims));
      await expectRefusedAtMe(await signAsAttacker({ typ: 'at+jwt', kid: key.kid, x5c }, accessClaims));
      expect(canaryRequests).toEqual([]);
    });

    it('JW-04: a plain attacker-signed token naming the real kid is refused', async () => {
      await expectRefusedAtMe(await signAsAttacker({ typ: 'at+jwt', kid: key.kid }, accessClaims));
      await expectRefusedAtMfaVerify(await signAsAttacker({ typ: 'mfa+jwt', kid: key.kid }, mfaClaims));
    });
  });

  describe('JW-05: kid is an opaque lookup key (never a path, never SQL, never a 500)', () => {
    const hostileKids: Array<[string, unknown]> = [
      ['../../dev/null', '../../dev/null'],
      ['/dev/null', '/dev/null'],
      ['SQL injection', "' OR 1=1 --"],
      ['SQL union', "x' UNION SELECT public_jwk FROM signing_keys --"],
      ['empty string', ''],
      ['5 000 characters', 'k'.repeat(5000)],
      ['unknown', 'unknown-kid-0000000000000000000000000000000'],
      ['__proto__', '__proto__'],
      ['constructor', 'constructor'],
      ['a number', 12345],
      ['null', null],
      ['an object', { $ne: null }],
      ['an array', ['x']],
      ['control characters', 'a\u0000b\r\nc'],
    ];

    it.each(hostileKids)('JW-05: kid %s on a token signed with the real key is refused with 401', async (_name, kid) => {
      const forged = await signWithRealKey(key, { typ: 'at+jwt', kid } as Header, accessClaims);
      await expectRefusedAtMe(forged);
      const forgedMfa = await signWithRealKey(key, { typ: 'mfa+jwt', kid } as Header, mfaClaims);
      await expectRefusedAtMfaVerify(forgedMfa);
    });

    it.each(hostileKids)('JW-05: kid %s on an HS256 token with an empty key is refused with 401', async (_name, kid) => {
      await expectRefusedAtMe(hmacToken('HS256', { typ: 'at+jwt', kid }, accessClaims, ''));
      await expectRefusedAtMe(hmacToken('HS256', { typ: 'at+jwt', kid }, accessClaims, Buffer.alloc(0)));
    });

    it('JW-05: no hostile kid changed the key table, and the real kid still works', async () => {
      const keys = await t.ctx.db.selectFrom('signing_keys').select(['kid', 'retired_at']).execute();
      expect(keys).toEqual([{ kid: key.kid, retired_at: null }]);
      expect((await me(accessToken)).statusCode).toBe(200);
    });
  });

  describe('JW-10 / FL-02: token kind × endpoint matrix', () => {
    it('FL-02: the mfa_token is refused at GET /v1/me, POST /v1/logout and GET /v1/factors', async () => {
      expectInvalidToken(await getJson(t.app, '/v1/me', bearer(mfaToken)));
      expectInvalidToken(await postJson(t.app, '/v1/logout', {}, bearer(mfaToken)));
      expectInvalidToken(await getJson(t.app, '/v1/factors', bearer(mfaToken)));
    });

    it('FL-02: the mfa_token as a refresh_token is refused at /v1/token/refresh', async () => {
      const response = await postJson(t.app, '/v1/token/refresh', { refresh_token: mfaToken });
      neverTokens(response);
      expect([400, 401]).toContain(response.statusCode);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(['invalid_token', 'invalid_request']).toContain(response.json().code);
    });

    it('FL-02: the access token at POST /v1/mfa/verify is a step-up: a new access token for the same session, never a refresh token', async () => {
      t.clock.advanceSeconds(30);
      const response = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, victim.secret) }, bearer(accessToken));
      expect(response.statusCode, response.body).toBe(200);
      expect(Object.keys(response.json()).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
      expect(decodeJwt(response.json().access_token)['sid']).toBe(accessClaims['sid']);
    });

    it('FL-02: the access token as a refresh_token is refused at /v1/token/refresh', async () => {
      const response = await postJson(t.app, '/v1/token/refresh', { refresh_token: accessToken });
      neverTokens(response);
      expect([400, 401]).toContain(response.statusCode);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it('FL-02: the refresh token as a bearer is refused at /v1/me, /v1/factors, /v1/logout and /v1/mfa/verify', async () => {
      const refresh = victim.refreshToken;
      expectInvalidToken(await getJson(t.app, '/v1/me', bearer(refresh)));
      expectInvalidToken(await getJson(t.app, '/v1/factors', bearer(refresh)));
      expectInvalidToken(await postJson(t.app, '/v1/logout', {}, bearer(refresh)));
      expectInvalidToken(await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, victim.secret) }, bearer(refresh)));
      expectInvalidToken(await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(refresh)));
    });

    it('JW-10: an access token re-signed with the real key with typ "JWT", missing typ, or typ "mfa+jwt" is refused at /v1/me', async () => {
      await expectRefusedAtMe(await signWithRealKey(key, { kid: key.kid, typ: 'JWT' }, accessClaims));
      await expectRefusedAtMe(await signWithRealKey(key, { kid: key.kid }, accessClaims));
      await expectRefusedAtMe(await signWithRealKey(key, { kid: key.kid, typ: 'mfa+jwt' }, accessClaims));
      await expectRefusedAtMe(await signWithRealKey(key, { kid: key.kid, typ: 'application/jwt' }, accessClaims));
    });

    it('JW-10: an mfa_token re-signed with typ "JWT" or missing typ is refused at /v1/mfa/verify', async () => {
      await expectRefusedAtMfaVerify(await signWithRealKey(key, { kid: key.kid, typ: 'JWT' }, mfaClaims));
      await expectRefusedAtMfaVerify(await signWithRealKey(key, { kid: key.kid }, mfaClaims));
      await expectRefusedAtMfaVerify(await signWithRealKey(key, { kid: key.kid, typ: 'at+jwt' }, mfaClaims));
    });

    it('FL-02: the mfa_token claims dressed as an access token (typ at+jwt, access aud, real key) are refused at /v1/me', async () => {
      const dressed = { ...mfaClaims, aud: testPublicUrl };
      await expectRefusedAtMe(await signWithRealKey(key, accessHeader(key), dressed));
      await expectRefusedAtMe(await signWithRealKey(key, accessHeader(key), { ...dressed, acr: 'aal2', amr: ['pwd', 'otp', 'mfa'], client_id: 'x', auth_time: mfaClaims.iat }));
    });

    it('FL-02: the access token claims dressed as an mfa_token (typ mfa+jwt, mfa aud, real key) are refused at /v1/mfa/verify', async () => {
      const dressed = { ...accessClaims, aud: `${testPublicUrl}/mfa` };
      await expectRefusedAtMfaVerify(await signWithRealKey(key, mfaHeader(key), dressed));
      await expectRefusedAtMfaVerify(await signWithRealKey(key, mfaHeader(key), { ...dressed, acr: 'aal1', amr: ['pwd'] }));
    });
  });

  describe('JW-09: iss exact, aud required and matched (signed with the real key)', () => {
    it('JW-09: an access token with a wrong iss is refused', async () => {
      for (const iss of ['http://evil.test', `${testPublicUrl}/`, testPublicUrl.toUpperCase(), `${testPublicUrl}/mfa`, '']) {
        await expectRefusedAtMe(await signWithRealKey(key, accessHeader(key), { ...accessClaims, iss }));
      }
      const { iss: _iss, ...withoutIss } = accessClaims;
      await expectRefusedAtMe(await signWithRealKey(key, accessHeader(key), withoutIss));
    });

    it('JW-09: an access token with a wrong or missing aud is refused', async () => {
      for (const aud of ['http://evil.test', `${testPublicUrl}/mfa`, `${testPublicUrl}/`, ['http://evil.test'], []]) {
        await expectRefusedAtMe(await signWithRealKey(key, accessHeader(key), { ...accessClaims, aud }));
      }
      const { aud: _aud, ...withoutAud } = accessClaims;
      await expectRefusedAtMe(await signWithRealKey(key, accessHeader(key), withoutAud));
    });

    it('JW-09: an mfa_token with a wrong iss, the access aud, or no aud is refused at /v1/mfa/verify', async () => {
      await expectRefusedAtMfaVerify(await signWithRealKey(key, mfaHeader(key), { ...mfaClaims, iss: 'http://evil.test' }));
      await expectRefusedAtMfaVerify(await signWithRealKey(key, mfaHeader(key), { ...mfaClaims, aud: testPublicUrl }));
      await expectRefusedAtMfaVerify(await signWithRealKey(key, mfaHeader(key), { ...mfaClaims, aud: 'http://evil.test/mfa' }));
      const { aud: _aud, ...withoutAud } = mfaClaims;
      await expectRefusedAtMfaVerify(await signWithRealKey(key, mfaHeader(key), withoutAud));
    });

    it('JW-09: an access token for a user that does not exist is refused', async () => {
      await expectRefusedAtMe(await signWithRealKey(key, accessHeader(key), { ...accessClaims, sub: 'usr_does_not_exist' }));
    });
  });

  describe('JW-12: strict parsing', () => {
    it('JW-12: four segments, five segments (JWE shape) and garbage are refused', async () => {
      const { h, p, s } = partsOf(accessToken);
      const garbage = [
        `${accessToken}.${s}`,
        `${h}.${p}.${s}.`,
        `${h}.${h}.${p}.${s}`,
        `${h}.${p}.${s}.${s}.${s}`,
        'a.b.c.d',
        'garbage',
        'eyJ.eyJ.sig',
        '...',
        `${b64u('not json')}.${p}.${s}`,
        `${b64u('[1,2,3]')}.${p}.${s}`,
        `${b64u('"string"')}.${p}.${s}`,
        `${b64u('null')}.${p}.${s}`,
        `${h}.${b64u('not json')}.${s}`,
        `${h}.${b64u('[]')}.${s}`,
        `${h}.${p}.${s}${s}`,
        `${h}.${p}.!!!`,
        `${h}..${s}`,
        `.${p}.${s}`,
        `${h}.${p}.${s.slice(0, -2)}`,
        `${h} .${p}.${s}`,
        `${b64uJson({ ...partsOf(accessToken).header, alg: 123 })}.${p}.${s}`,
        `${b64uJson({ ...partsOf(accessToken).header, alg: ['EdDSA'] })}.${p}.${s}`,
        `${b64uJson({ ...partsOf(accessToken).header, typ: ['at+jwt'] })}.${p}.${s}`,
      ];
      for (const token of garbage) {
        await expectRefusedAtMe(token);
        await expectRefusedAtMfaVerify(token);
      }
    });

    it('JW-12: a token with crit:["foo"] signed with the real key is refused', async () => {
      const withCrit = await signWithRealKey(key, { ...accessHeader(key), crit: ['foo'], foo: 1 }, accessClaims, { crit: { foo: true } });
      expect(decodeProtectedHeader(withCrit).crit).toEqual(['foo']);
      await expectRefusedAtMe(withCrit);
      const mfaWithCrit = await signWithRealKey(key, { ...mfaHeader(key), crit: ['foo'], foo: 1 }, mfaClaims, { crit: { foo: true } });
      await expectRefusedAtMfaVerify(mfaWithCrit);
    });

    it('JW-12: a token signed with the real key whose payload is not a JSON object is refused', async () => {
      for (const payloadText of ['not json', '[]', '"x"', '42', 'null']) {
        const input = `${b64uJson(accessHeader(key))}.${b64u(payloadText)}`;
        const signature = new Uint8Array(await webcrypto.subtle.sign('Ed25519', key.privateKey as never, new TextEncoder().encode(input)));
        await expectRefusedAtMe(`${input}.${b64u(signature)}`);
      }
    });

    it('JW-12: claims of the wrong JSON type (exp as a string, sub as a number, sid missing) are refused', async () => {
      await expectRefusedAtMe(await signWithRealKey(key, accessHeader(key), { ...accessClaims, exp: String(accessClaims.exp) } as never));
      await expectRefusedAtMe(await signWithRealKey(key, accessHeader(key), { ...accessClaims, sub: 42 } as never));
      const { sid: _sid, ...withoutSid } = accessClaims;
      await expectRefusedAtMe(await signWithRealKey(key, accessHeader(key), withoutSid));
      const { jti: _jti, ...withoutJti } = accessClaims;
      await expectRefusedAtMe(await signWithRealKey(key, accessHeader(key), withoutJti));
    });
  });

  describe('JW-13 / JW-14: no personal data in tokens, no tokens in URLs', () => {
    it('JW-13: access and mfa token payloads carry no username, email or phone', async () => {
      const username = `pii${process.pid}x${Date.now() % 100000}`;
      const email = 'pii.person@example.com';
      const phone = '+14155550123';
      const registered = await registerUser(t, { username, email, phone });
      const confirm = await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
      expect(confirm.statusCode, confirm.body).toBe(200);
      for (const token of [registered.mfaToken, confirm.json().access_token as string]) {
        const payload = decodeJwt(token);
        const text = JSON.stringify({ header: decodeProtectedHeader(token), payload });
        expect(text.toLowerCase()).not.toContain(username.toLowerCase());
        expect(text.toLowerCase()).not.toContain(email);
        expect(text).not.toContain(phone);
        expect(text).not.toContain('4155550123');
        for (const member of ['username', 'preferred_username', 'name', 'email', 'phone', 'phone_number', 'secret', 'password']) {
          expect(payload).not.toHaveProperty(member);
        }
        expect(payload.sub).toBe(registered.userId);
        expect(Object.keys(decodeProtectedHeader(token)).sort()).toEqual(['alg', 'kid', 'typ']);
      }
    });

    it('JW-14: ?access_token=<valid token> without a header is refused at /v1/me', async () => {
      expectInvalidToken(await getJson(t.app, `/v1/me?access_token=${accessToken}`));
      expectInvalidToken(await getJson(t.app, `/v1/me?ACCESS_TOKEN=${accessToken}`));
      expectInvalidToken(await getJson(t.app, `/v1/me?x=1&token=${accessToken}`));
      expectInvalidToken(await getJson(t.app, `/v1/factors?access_token=${accessToken}`));
    });

    it('JW-14: a valid header plus ?access_token is still refused', async () => {
      expectInvalidToken(await getJson(t.app, `/v1/me?access_token=${accessToken}`, bearer(accessToken)));
      expectInvalidToken(await getJson(t.app, `/v1/me?access_token=x`, bearer(accessToken)));
    });

    it('JW-14: ?mfa_token= at /v1/mfa/verify is refused even with a valid header', async () => {
      expectInvalidToken(await postJson(t.app, `/v1/mfa/verify?mfa_token=${mfaToken}`, { code: totpCode(t, victim.secret) }));
      expectInvalidToken(await postJson(t.app, `/v1/mfa/verify?mfa_token=${mfaToken}`, { code: totpCode(t, victim.secret) }, bearer(mfaToken)));
    });
  });

  describe('JW-15: malleability (re-encoded signatures)', () => {
    it('JW-15: base64url padding appended to the signature is refused', async () => {
      for (const padding of ['=', '==', '%3D']) {
        await expectRefusedAtMe(`${accessToken}${padding}`);
      }
      await expectRefusedAtMfaVerify(`${mfaToken}=`);
    });

    it('JW-15: the signature re-encoded in standard base64 (with padding, perhaps + and /) is refused', async () => {
      const { h, p, s } = partsOf(accessToken);
      const standard = Buffer.from(s, 'base64url').toString('base64');
      expect(standard).not.toBe(s); // 64 bytes always take "==" padding in standard base64
      expectInvalidToken(await me(`${h}.${p}.${standard}`));
    });
  });

  describe('FL-06 / FL-04: no client-asserted success, no cross-user factor', () => {
    it('FL-06: a wrong code with "mfa_verified": true, "amr": ["otp"], "username": "victim" → 401 invalid_code, and the mfa_token still cannot call /v1/me', async () => {
      const user = await signUp(t);
      t.clock.advanceSeconds(30);
      const pending = await loginForMfaToken(t, user);
      const response = await postJson(
        t.app,
        '/v1/mfa/verify',
        { code: wrongCode(t, user.secret), mfa_verified: true, amr: ['otp'], acr: 'aal2', username: victim.username, user_id: victim.userId },
        bearer(pending),
      );
      expectProblem(response, 401, 'invalid_code');
      neverTokens(response);
      expectInvalidToken(await getJson(t.app, '/v1/me', bearer(pending)));
      expectInvalidToken(await getJson(t.app, '/v1/factors', bearer(pending)));
      // Extra fields without any code are not a proof either.
      const noCode = await postJson(t.app, '/v1/mfa/verify', { mfa_verified: true, amr: ['otp'] }, bearer(pending));
      neverTokens(noCode);
      expect([400, 401]).toContain(noCode.statusCode);
      // The right code still works afterwards, for this user only.
      const ok = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret), mfa_verified: false }, bearer(pending));
      expect(ok.statusCode, ok.body).toBe(200);
      expect(decodeJwt(ok.json().access_token).sub).toBe(user.userId);
    });

    it("FL-04: attacker's mfa_token + attacker's own valid code + the victim's factor_id → 404 or 401, never victim tokens", async () => {
      const attacker = await signUp(t);
      const target = await signUp(t);
      t.clock.advanceSeconds(30);
      const pending = await loginForMfaToken(t, attacker);
      const response = await postJson(
        t.app,
        '/v1/mfa/verify',
        { code: totpCode(t, attacker.secret), factor_id: target.factorId, username: target.username, user_id: target.userId, sub: target.userId },
        bearer(pending),
      );
      neverTokens(response);
      expect([401, 404]).toContain(response.statusCode);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      // Without the foreign factor_id the same code signs in the attacker — as the attacker.
      const own = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, attacker.secret), username: target.username, user_id: target.userId }, bearer(pending));
      expect(own.statusCode, own.body).toBe(200);
      expect(decodeJwt(own.json().access_token).sub).toBe(attacker.userId);
      const meResponse = await getJson(t.app, '/v1/me', bearer(own.json().access_token));
      expect(meResponse.json().user.id).toBe(attacker.userId);
    });

    it("FL-04: attacker's mfa_token confirming the victim's pending factor with the attacker's own code → 404 or 401, never tokens", async () => {
      const attacker = await registerUser(t);
      const target = await registerUser(t);
      const response = await postJson(t.app, `/v1/factors/${target.factorId}/verify`, { code: totpCode(t, attacker.secret) }, bearer(attacker.mfaToken));
      neverTokens(response);
      expect([401, 404]).toContain(response.statusCode);
      const factor = await t.ctx.db.selectFrom('factors').select(['status']).where('id', '=', target.factorId).executeTakeFirstOrThrow();
      expect(factor.status).toBe('pending');
    });
  });

  describe('after every attack', () => {
    it('the real mfa_token was never consumed by a refused forgery: it still completes with the right code', async () => {
      const response = await mfaVerify(mfaToken);
      expect(response.statusCode, response.body).toBe(200);
      expect(decodeJwt(response.json().access_token).sub).toBe(victim.userId);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Time: exp / nbf with the test clock (own server, so moving the clock disturbs nothing else)

describe('JW-08: exp, nbf and clock skew (≤ 60 s)', () => {
  let t: TestTwofold;
  let key: RealKey;
  let user: SignedUp;
  let claims: JWTPayload;
  const nowSeconds = () => Math.floor(t.clock.now() / 1000);
  const me = (token: string) => getJson(t.app, '/v1/me', bearer(token));

  beforeAll(async () => {
    t = await startTestTwofold();
    key = await realKeyOf(t);
    user = await signUp(t);
    claims = decodeJwt(user.accessToken);
  });
  afterAll(async () => t.close());

  it('JW-08: a correctly signed token whose exp is 61 s in the past is refused', async () => {
    expectInvalidToken(await me(await signWithRealKey(key, accessHeader(key), { ...claims, exp: nowSeconds() - 61 })));
  });

  it('JW-08: a correctly signed token whose exp is 30 s in the past is accepted (skew)', async () => {
    const response = await me(await signWithRealKey(key, accessHeader(key), { ...claims, exp: nowSeconds() - 30 }));
    expect(response.statusCode, response.body).toBe(200);
  });

  it('JW-08: a correctly signed token without exp is refused', async () => {
    const { exp: _exp, ...withoutExp } = claims;
    expectInvalidToken(await me(await signWithRealKey(key, accessHeader(key), withoutExp)));
  });

  it('JW-08: exp of the wrong type (string, null, huge) never yields a 500', async () => {
    for (const exp of [String(nowSeconds() + 600), null, Number.MAX_SAFE_INTEGER * 10, -1, 1e308]) {
      const response = await me(await signWithRealKey(key, accessHeader(key), { ...claims, exp } as never));
      expect(response.statusCode, `exp ${String(exp)}: ${response.body}`).toBeLessThan(500);
      if (exp === null || typeof exp === 'string' || exp === -1) expectInvalidToken(response);
    }
  });

  it('JW-08: a correctly signed token with nbf in the future (beyond the skew) is refused', async () => {
    expectInvalidToken(await me(await signWithRealKey(key, accessHeader(key), { ...claims, nbf: nowSeconds() + 3600 })));
    expectInvalidToken(await me(await signWithRealKey(key, accessHeader(key), { ...claims, nbf: nowSeconds() + 120 })));
  });

  it('JW-08: the real access token 30 s after exp is accepted, 61 s after exp refused (cached or not)', async () => {
    const fresh = await signIn(t, user);
    const exp = decodeJwt(fresh).exp ?? 0;
    expect((await me(fresh)).statusCode).toBe(200); // now cached as verified
    t.clock.advance((exp + 30) * 1000 - t.clock.now());
    expect((await me(fresh)).statusCode).toBe(200);
    t.clock.advanceSeconds(31);
    expectInvalidToken(await me(fresh));
  });

  it('JW-08 / FL-03: an mfa_token past its 5 minutes (+ skew) is refused', async () => {
    t.clock.advanceSeconds(30);
    const pending = await loginForMfaToken(t, user);
    const exp = decodeJwt(pending).exp ?? 0;
    t.clock.advance((exp + 61) * 1000 - t.clock.now());
    expectInvalidToken(await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(pending)));
  });

  async function signIn(server: TestTwofold, who: SignedUp): Promise<string> {
    server.clock.advanceSeconds(30);
    const pending = await loginForMfaToken(server, who);
    const response = await postJson(server.app, '/v1/mfa/verify', { code: totpCode(server, who.secret) }, bearer(pending));
    expect(response.statusCode, response.body).toBe(200);
    return response.json().access_token as string;
  }
});

// ---------------------------------------------------------------------------------------------
// ES256: psychic signatures and ECDSA malleability

describe('JW-07 / JW-15: the ES256 server', () => {
  let t: TestTwofold;
  let key: RealKey;
  let user: SignedUp;
  let mfaToken: string;

  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_SIGNING_ALG: 'ES256' } });
    key = await realKeyOf(t);
    user = await signUp(t);
    t.clock.advanceSeconds(30);
    mfaToken = await loginForMfaToken(t, user);
  });
  afterAll(async () => t.close());

  const me = (token: string) => getJson(t.app, '/v1/me', bearer(token));
  const mfaVerify = (token: string) => postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(token));

  it('the server really signs with ES256 and its real token works', async () => {
    expect(key.alg).toBe('ES256');
    expect(decodeProtectedHeader(user.accessToken)).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: key.kid });
    expect((await me(user.accessToken)).statusCode).toBe(200);
  });

  const psychicSignatures: Array<[string, string]> = [
    ['64 zero bytes (r = s = 0)', b64u(Buffer.alloc(64))],
    ['DER r = s = 0 (MAYCAQACAQA)', 'MAYCAQACAQA'],
    ['r = s = n (the curve order)', b64u(Buffer.concat([to32Bytes(p256Order), to32Bytes(p256Order)]))],
    ['r = 0, s = 1', b64u(Buffer.concat([Buffer.alloc(32), to32Bytes(1n)]))],
    ['r = 1, s = 0', b64u(Buffer.concat([to32Bytes(1n), Buffer.alloc(32)]))],
  ];

  it.each(psychicSignatures)('JW-07: the psychic signature %s is refused for the access token at /v1/me', async (_name, signature) => {
    const { h, p } = partsOf(user.accessToken);
    expectInvalidToken(await me(`${h}.${p}.${signature}`));
    // And with a payload of the attacker's choosing.
    const { header, payload } = partsOf(user.accessToken);
    expectInvalidToken(await me(assemble(header, { ...payload, exp: (payload.exp ?? 0) + 86400 }, signature)));
  });

  it.each(psychicSignatures)('JW-07: the psychic signature %s is refused for the mfa_token at /v1/mfa/verify', async (_name, signature) => {
    const { h, p } = partsOf(mfaToken);
    expectInvalidToken(await mfaVerify(`${h}.${p}.${signature}`));
  });

  it('JW-03: HS256 keyed with the ES256 public key (PEM, JWK JSON, raw x||y) is refused', async () => {
    const { kty, crv, x, y } = key.publicJwk;
    const pem = createPublicKey({ key: { kty, crv, x, y } as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const raw = Buffer.concat([Buffer.from([4]), Buffer.from(x ?? '', 'base64url'), Buffer.from(y ?? '', 'base64url')]);
    const claims = decodeJwt(user.accessToken);
    for (const secret of [pem, JSON.stringify(key.publicJwk), raw]) {
      for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
        expectInvalidToken(await me(hmacToken(alg, { kid: key.kid, typ: 'at+jwt' }, claims, secret)));
      }
    }
  });

  it('JW-15: the high-s twin (n − s) of a valid signature never yields a 500, and dies with the session on logout', async () => {
    const { h, p, s } = partsOf(user.accessToken);
    const raw = Buffer.from(s, 'base64url');
    expect(raw).toHaveLength(64);
    const r = raw.subarray(0, 32);
    const sValue = BigInt(`0x${raw.subarray(32).toString('hex')}`);
    const twin = `${h}.${p}.${b64u(Buffer.concat([r, to32Bytes(p256Order - sValue)]))}`;
    const before = await me(twin);
    expect(before.statusCode, before.body).toBeLessThan(500);
    expect([200, 401]).toContain(before.statusCode);

    const logout = await postJson(t.app, '/v1/logout', {}, bearer(user.accessToken));
    expect(logout.statusCode, logout.body).toBe(204);
    expectInvalidToken(await me(user.accessToken));
    expectInvalidToken(await me(twin));
  });

  it('the real mfa_token survived every forgery and still completes', async () => {
    const response = await mfaVerify(mfaToken);
    expect(response.statusCode, response.body).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// JW-15 on EdDSA: unused bits of the last base64url character, then revocation (logout)

describe('JW-15: re-encoded EdDSA signature and revocation', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold();
  });
  afterAll(async () => t.close());

  it('JW-15: the signature with altered unused bits in its last character is refused (one token, one spelling); after logout the original is refused', async () => {
    const user = await signUp(t);
    const { h, p, s } = partsOf(user.accessToken);
    // 64 bytes = 512 bits in 86 characters (516 bits): the last character carries 4 unused bits.
    expect(s).toHaveLength(86);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.slice(-1));
    const variants = [1, 2, 4, 8, 15].map((mask) => `${h}.${p}.${s.slice(0, -1)}${alphabet[last ^ mask]}`);
    for (const variant of variants) {
      expect(Buffer.from(variant.split('.')[2] ?? '', 'base64url').equals(Buffer.from(s, 'base64url'))).toBe(true);
      expectInvalidToken(await getJson(t.app, '/v1/me', bearer(variant)));
    }
    // Changing a used bit is a different signature: refused.
    const flipped = `${h}.${p}.${s.slice(0, -1)}${alphabet[last ^ 16]}`;
    expectInvalidToken(await getJson(t.app, '/v1/me', bearer(flipped)));

    const logout = await postJson(t.app, '/v1/logout', {}, bearer(user.accessToken));
    expect(logout.statusCode, logout.body).toBe(204);
    for (const token of [user.accessToken, ...variants, `${user.accessToken}=`]) {
      expectInvalidToken(await getJson(t.app, '/v1/me', bearer(token)));
    }
  });
});
