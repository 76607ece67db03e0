// Attacks on DPoP at Twofold's own API, with real keys over the HTTP API: a stolen bound token or
// refresh token without its key, proofs moved to another method, URL, token or key, replayed,
// unsigned or HMAC'd, carrying a private key, too old or from the future, with a stale nonce,
// oversized, garbage or doubled. Each is refused with the contract's error (400 invalid_dpop_proof
// / use_dpop_nonce on the token routes, 401 invalid_token with a DPoP challenge on the
// access-token routes) — never a 500, and never by spending the refresh token.
// Runs on SQLite and, in the "postgres" project, on PostgreSQL + Redis.
import { request as httpRequest } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Base64url } from '../../src/core/crypto/digest.js';
import { createDpopTestKey, makeDpopProof, unsignedJws, type DpopProofParts, type DpopTestKey } from '../helpers/dpop-proofs.js';
import { bearer, expectProblem, getJson, postJson, registerUser, totpCode } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { startTestTwofold, testPublicUrl, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
let key: DpopTestKey;
let thief: DpopTestKey;
beforeAll(async () => {
  t = await startTestTwofold();
  key = await createDpopTestKey('ES256');
  thief = await createDpopTestKey('ES256');
});
afterAll(async () => t?.close());

const refreshUrl = `${testPublicUrl}/v1/token/refresh`;
const meUrl = `${testPublicUrl}/v1/me`;
const nowSeconds = (on: TestTwofold = t) => Math.floor(on.clock.now() / 1000);

function proof(parts: Partial<DpopProofParts> & { on?: TestTwofold } = {}): Promise<string> {
  const { on, ...rest } = parts;
  return makeDpopProof({ key, htm: 'POST', htu: refreshUrl, iat: nowSeconds(on), ...rest });
}

async function signUpBound(on: TestTwofold = t, nonce?: string): Promise<{ accessToken: string; refreshToken: string }> {
  const registered = await registerUser(on);
  const path = `/v1/factors/${registered.factorId}/verify`;
  const dpop = await proof({ on, htu: `${testPublicUrl}${path}`, ...(nonce === undefined ? {} : { claims: { nonce } }) });
  const response = await postJson(on.app, path, { code: totpCode(on, registered.secret) }, { ...bearer(registered.mfaToken), dpop });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.json().token_type).toBe('DPoP');
  return { accessToken: response.json().access_token, refreshToken: response.json().refresh_token };
}

const refresh = (refreshToken: string, dpop?: string | string[]) =>
  t.app.inject({ method: 'POST', url: '/v1/token/refresh', headers: { 'content-type': 'application/json', ...(dpop === undefined ? {} : { dpop }) }, payload: { refresh_token: refreshToken } });
const me = (accessToken: string, dpop?: string) => getJson(t.app, '/v1/me', { authorization: `DPoP ${accessToken}`, ...(dpop === undefined ? {} : { dpop }) });
const meProof = (accessToken: string, parts: Partial<DpopProofParts> = {}) => proof({ htm: 'GET', htu: meUrl, claims: { ath: sha256Base64url(accessToken), ...parts.claims }, ...withoutClaims(parts) });

function withoutClaims(parts: Partial<DpopProofParts>): Partial<DpopProofParts> {
  const { claims: _claims, ...rest } = parts;
  return rest;
}

function expectChallenge(response: LightMyRequestResponse, error: string): void {
  expectProblem(response, 401, 'invalid_token');
  expect(response.headers['www-authenticate']).toMatch(new RegExp(`^DPoP error="${error}"`));
}

/** The refresh token was not spent: a good proof still refreshes it. */
async function expectUnspent(refreshToken: string): Promise<void> {
  const response = await refresh(refreshToken, await proof());
  expect(response.statusCode, response.body).toBe(200);
}

describe('a stolen bound token or refresh token without its key', () => {
  it('DP-15: a bound access token without a proof, as Bearer, or with a thief\'s proof → 401', async () => {
    const user = await signUpBound();
    expectChallenge(await me(user.accessToken), 'invalid_dpop_proof');
    expectChallenge(await getJson(t.app, '/v1/me', bearer(user.accessToken)), 'invalid_token');
    expectChallenge(await me(user.accessToken, await meProof(user.accessToken, { key: thief })), 'invalid_dpop_proof');
  });

  it('DP-14: a bound refresh token with the thief\'s key or no proof → 400 invalid_dpop_proof; the owner can still refresh', async () => {
    const user = await signUpBound();
    expectProblem(await refresh(user.refreshToken, await proof({ key: thief })), 400, 'invalid_dpop_proof');
    expectProblem(await refresh(user.refreshToken), 400, 'invalid_dpop_proof');
    await expectUnspent(user.refreshToken);
  });
});

describe('proofs moved to another request', () => {
  it('DP-06: a proof for another method or URL (path, host, scheme) → 400, nothing spent', async () => {
    const user = await signUpBound();
    for (const parts of [{ htm: 'GET' }, { htu: `${testPublicUrl}/v1/mfa/verify` }, { htu: 'http://evil.example/v1/token/refresh' }, { htu: 'https://twofold.test/v1/token/refresh' }]) {
      expectProblem(await refresh(user.refreshToken, await proof(parts)), 400, 'invalid_dpop_proof');
    }
    await expectUnspent(user.refreshToken);
  });

  it('DP-09: a proof for another access token (ath), or without ath → 401', async () => {
    const user = await signUpBound();
    const other = await signUpBound();
    expectChallenge(await me(user.accessToken, await meProof(other.accessToken)), 'invalid_dpop_proof');
    expectChallenge(await me(user.accessToken, await proof({ htm: 'GET', htu: meUrl })), 'invalid_dpop_proof');
    expect((await me(user.accessToken, await meProof(user.accessToken))).statusCode).toBe(200);
  });

  it('DP-08: a replayed proof → refused, on the token route and on GET /v1/me', async () => {
    const user = await signUpBound();
    const once = await proof();
    const first = await refresh(user.refreshToken, once);
    expect(first.statusCode, first.body).toBe(200);
    expectProblem(await refresh(first.json().refresh_token, once), 400, 'invalid_dpop_proof');
    const meOnce = await meProof(first.json().access_token);
    expect((await me(first.json().access_token, meOnce)).statusCode).toBe(200);
    expectChallenge(await me(first.json().access_token, meOnce), 'invalid_dpop_proof');
  });
});

describe('forged and malformed proofs', () => {
  it('DP-04: alg none and HS256 keyed with the jwk → 400', async () => {
    const user = await signUpBound();
    const header = { typ: 'dpop+jwt', alg: 'none', jwk: key.publicJwk };
    const payload = { jti: 'none-jti', htm: 'POST', htu: refreshUrl, iat: nowSeconds() };
    expectProblem(await refresh(user.refreshToken, unsignedJws(header, payload)), 400, 'invalid_dpop_proof');
    const hmac = await proof({ header: { alg: 'HS256' }, signWith: new TextEncoder().encode(JSON.stringify(key.publicJwk)) });
    expectProblem(await refresh(user.refreshToken, hmac), 400, 'invalid_dpop_proof');
    await expectUnspent(user.refreshToken);
  });

  it('DP-05: a private key in the jwk → 400', async () => {
    const user = await signUpBound();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privateProof = await proof({ header: { jwk: privateKey.export({ format: 'jwk' }) }, signWith: privateKey });
    expectProblem(await refresh(user.refreshToken, privateProof), 400, 'invalid_dpop_proof');
    await expectUnspent(user.refreshToken);
  });

  it('DP-07: a proof 61 s old or 6 s in the future (the server\'s clock moved) → 400', async () => {
    const user = await signUpBound();
    const old = await proof();
    t.clock.advanceSeconds(61);
    expectProblem(await refresh(user.refreshToken, old), 400, 'invalid_dpop_proof');
    expectProblem(await refresh(user.refreshToken, await proof({ iat: nowSeconds() + 6 })), 400, 'invalid_dpop_proof');
    await expectUnspent(user.refreshToken);
  });

  it('DP-11: an oversized or garbage DPoP header → 400 (token route) or 401 (access route), never 500', async () => {
    const user = await signUpBound();
    const big = await proof({ claims: { padding: 'x'.repeat(9 * 1024) } });
    for (const dpop of [big, 'garbage', 'a.b.c', `${await proof()}.x`, ' ']) {
      expectProblem(await refresh(user.refreshToken, dpop), 400, 'invalid_dpop_proof');
      expectChallenge(await me(user.accessToken, dpop), 'invalid_dpop_proof');
    }
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 200 }).filter((text) => /^[\x21-\x7e]+$/.test(text)), async (text) => {
        const response = await refresh(user.refreshToken, text);
        return response.statusCode === 400 && response.json().code === 'invalid_dpop_proof';
      }),
      { numRuns: 50 },
    );
    await expectUnspent(user.refreshToken);
  });

  it('DP-11: two DPoP headers → 400, even when both are valid proofs', async () => {
    const user = await signUpBound();
    expectProblem(await refresh(user.refreshToken, [await proof(), await proof()]), 400, 'invalid_dpop_proof');
    await expectUnspent(user.refreshToken);
  });

  it('DP-11: two DPoP headers over a real socket (Node joins them) → 400 invalid_dpop_proof', async () => {
    const listening: ListeningTwofold = await startListeningTwofold();
    try {
      const url = new URL('/v1/token/refresh', listening.baseUrl);
      const make = () => makeDpopProof({ key, htm: 'POST', htu: url.href, iat: nowSeconds(listening) });
      const [first, second] = [await make(), await make()];
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const sent = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        sent.setHeader('dpop', [first, second]);
        sent.on('error', reject);
        sent.end(JSON.stringify({ refresh_token: `tfr_${'A'.repeat(43)}` }));
      });
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'invalid_dpop_proof' });
    } finally {
      await listening.close();
    }
  });
});

describe('nonces', () => {
  let nonced: TestTwofold;
  beforeAll(async () => {
    nonced = await startTestTwofold({ env: { TWOFOLD_DPOP_NONCE: 'required' } });
  });
  afterAll(async () => nonced?.close());

  it('DP-16: a stale nonce (two windows later), a forged one or another server\'s → use_dpop_nonce with a fresh DPoP-Nonce; nothing spent', async () => {
    const user = await signUpBound(nonced, nonced.ctx.dpop.nonces.issue());
    const stale = nonced.ctx.dpop.nonces.issue();
    nonced.clock.advanceSeconds(2 * nonced.config.dpop.nonceWindowSeconds);
    const refreshWith = async (nonce: string) =>
      postJson(nonced.app, '/v1/token/refresh', { refresh_token: user.refreshToken }, { dpop: await proof({ on: nonced, claims: { nonce } }) });
    for (const nonce of [stale, 'forged', t.ctx.dpop.nonces.issue()]) {
      const response = await refreshWith(nonce);
      expectProblem(response, 400, 'use_dpop_nonce');
      expect(response.headers['dpop-nonce']).toBe(nonced.ctx.dpop.nonces.issue());
    }
    const good = await refreshWith(nonced.ctx.dpop.nonces.issue());
    expect(good.statusCode, good.body).toBe(200);
  });
});

describe('schemes and token kinds', () => {
  it('DP-15: an mfa_token under the DPoP scheme → 401; the DPoP scheme without a token → 401', async () => {
    const registered = await registerUser(t);
    const dpop = await proof({ htu: `${testPublicUrl}/v1/mfa/challenge` });
    expectProblem(await postJson(t.app, '/v1/mfa/challenge', { factor_id: registered.factorId }, { authorization: `DPoP ${registered.mfaToken}`, dpop }), 401, 'invalid_token');
    expectProblem(await getJson(t.app, '/v1/me', { authorization: 'DPoP ' }), 401, 'invalid_token');
  });
});
