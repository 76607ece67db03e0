// DPoP (RFC 9449) on Twofold's own API, through the HTTP API with real keys: the token routes bind
// what they issue to the proof's key (DP-12), bearer clients keep working (DP-13), the refresh
// rules of bound and unbound sessions (DP-14), bound tokens on the access-token routes (DP-15),
// server nonces (DP-16), TWOFOLD_DPOP=required (DP-17), discovery and CORS (DP-18).
// Runs on SQLite and, in the "postgres" project, on PostgreSQL + Redis.
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Base64url } from '../../src/core/crypto/digest.js';
import { createDpopTestKey, makeDpopProof, type DpopTestKey } from '../helpers/dpop-proofs.js';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, registerUser, totpCode } from '../helpers/flow.js';
import { injectPost, passkeySignInOptions, signUpWithPasskey } from '../helpers/passkey-sign-in.js';
import { startTestTwofold, testPublicUrl, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
let key: DpopTestKey;
let otherKey: DpopTestKey;
let jkt: string;
beforeAll(async () => {
  t = await startTestTwofold();
  key = await createDpopTestKey('ES256');
  otherKey = await createDpopTestKey('EdDSA');
  jkt = await calculateJwkThumbprint(key.publicJwk, 'sha256');
});
afterAll(async () => t?.close());

interface ProofOptions {
  key?: DpopTestKey;
  accessToken?: string;
  nonce?: string;
  htu?: string;
}

/** A fresh proof for `method path` at the public URL, at the server's (test) clock. */
function proofFor(on: TestTwofold, method: string, path: string, options: ProofOptions = {}): Promise<string> {
  return makeDpopProof({
    key: options.key ?? key,
    htm: method,
    htu: options.htu ?? `${testPublicUrl}${path}`,
    iat: Math.floor(on.clock.now() / 1000),
    claims: { ...(options.accessToken === undefined ? {} : { ath: sha256Base64url(options.accessToken) }), ...(options.nonce === undefined ? {} : { nonce: options.nonce }) },
  });
}

async function postWithProof(on: TestTwofold, path: string, body: unknown, headers: Record<string, string>, options: ProofOptions = {}): Promise<LightMyRequestResponse> {
  return postJson(on.app, path, body, { ...headers, dpop: await proofFor(on, 'POST', path, options) });
}

const dpopAuth = (token: string) => ({ authorization: `DPoP ${token}` });
const cnfOf = (accessToken: string) => decodeJwt(accessToken)['cnf'];
const sessionOf = (on: TestTwofold, accessToken: string) =>
  on.ctx.db.selectFrom('sessions').selectAll().where('id', '=', decodeJwt(accessToken)['sid'] as string).executeTakeFirstOrThrow();

/** Register and confirm the app factor with a proof of `proofKey` (the first sign-in). */
async function signUpBound(on: TestTwofold = t, proofKey: DpopTestKey = key) {
  const registered = await registerUser(on);
  const response = await postWithProof(on, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(on, registered.secret) }, bearer(registered.mfaToken), { key: proofKey });
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  return { ...registered, accessToken: body.access_token as string, refreshToken: body.refresh_token as string, body };
}

async function signUpBearer(on: TestTwofold = t) {
  const registered = await registerUser(on);
  const response = await postJson(on.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(on, registered.secret) }, bearer(registered.mfaToken));
  expect(response.statusCode, response.body).toBe(200);
  return { ...registered, accessToken: response.json().access_token as string, refreshToken: response.json().refresh_token as string, body: response.json() };
}

function refreshWith(on: TestTwofold, refreshToken: string, options?: ProofOptions): Promise<LightMyRequestResponse> {
  return options === undefined ? postJson(on.app, '/v1/token/refresh', { refresh_token: refreshToken }) : postWithProof(on, '/v1/token/refresh', { refresh_token: refreshToken }, {}, options);
}

async function meWithProof(on: TestTwofold, accessToken: string, options: ProofOptions = {}): Promise<LightMyRequestResponse> {
  return getJson(on.app, '/v1/me', { ...dpopAuth(accessToken), dpop: await proofFor(on, 'GET', '/v1/me', { accessToken, ...options }) });
}

function expectDpopChallenge(response: LightMyRequestResponse, error: string): void {
  expectProblem(response, 401, 'invalid_token');
  expect(response.headers['www-authenticate']).toMatch(new RegExp(`^DPoP error="${error}", error_description="[^"]+", algs="ES256 EdDSA"$`));
}

describe('DP-12: the token routes bind what they issue to the proof\'s key', () => {
  it('DP-12: POST /v1/factors/{id}/verify (sign-up) with a proof → token_type DPoP, cnf.jkt = the key\'s thumbprint, the session bound', async () => {
    const user = await signUpBound();
    expect(user.body.token_type).toBe('DPoP');
    expect(cnfOf(user.accessToken)).toEqual({ jkt });
    expect((await sessionOf(t, user.accessToken)).dpop_jkt).toBe(jkt);
  });

  it('DP-12: POST /v1/mfa/verify (sign-in) with a proof → a bound pair; the session bound to the key', async () => {
    const user = await signUpBearer();
    t.clock.advanceSeconds(30);
    const mfaToken = await loginForMfaToken(t, user);
    const response = await postWithProof(t, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(mfaToken), { key: otherKey });
    expect(response.statusCode, response.body).toBe(200);
    const otherJkt = await calculateJwkThumbprint(otherKey.publicJwk, 'sha256');
    expect(response.json().token_type).toBe('DPoP');
    expect(cnfOf(response.json().access_token)).toEqual({ jkt: otherJkt });
    expect((await sessionOf(t, response.json().access_token)).dpop_jkt).toBe(otherJkt);
  });

  it('DP-12: POST /v1/passkeys/authenticate with a proof → a bound pair', async () => {
    const post = injectPost(t);
    const account = await signUpWithPasskey(post);
    const challenge = await passkeySignInOptions(post);
    const credential = account.authenticator.authenticate(challenge.options);
    const response = await postWithProof(t, '/v1/passkeys/authenticate', { challenge_id: challenge.challengeId, credential }, {});
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().token_type).toBe('DPoP');
    expect(cnfOf(response.json().access_token)).toEqual({ jkt });
    expect((await sessionOf(t, response.json().access_token)).dpop_jkt).toBe(jkt);
  });

  it('DP-12: POST /v1/token/refresh of a bound session with its key → a bound pair again', async () => {
    const user = await signUpBound();
    const response = await refreshWith(t, user.refreshToken, {});
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().token_type).toBe('DPoP');
    expect(cnfOf(response.json().access_token)).toEqual({ jkt });
  });

  it('DP-12: a step-up (POST /v1/mfa/verify with a bound access token) returns an access token bound to the same key', async () => {
    const user = await signUpBound();
    t.clock.advanceSeconds(30);
    const response = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, {
      ...dpopAuth(user.accessToken),
      dpop: await proofFor(t, 'POST', '/v1/mfa/verify', { accessToken: user.accessToken }),
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().token_type).toBe('DPoP');
    expect(cnfOf(response.json().access_token)).toEqual({ jkt });
  });

  it('DP-12: the proof must name the public URL: one made for the Host the request was sent to is refused', async () => {
    const registered = await registerUser(t);
    const path = `/v1/factors/${registered.factorId}/verify`;
    const response = await t.app.inject({
      method: 'POST',
      url: path,
      headers: { host: 'attacker.example', 'content-type': 'application/json', ...bearer(registered.mfaToken), dpop: await proofFor(t, 'POST', path, { htu: `http://attacker.example${path}` }) },
      payload: { code: totpCode(t, registered.secret) },
    });
    expectProblem(response, 400, 'invalid_dpop_proof');
    // Nothing was spent: the same code with a good proof still completes the sign-up.
    expect((await postWithProof(t, path, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken))).statusCode).toBe(200);
  });
});

describe('DP-13: bearer clients keep working', () => {
  it('DP-13: a sign-up and a refresh without a proof → token_type Bearer, no cnf, an unbound session; GET /v1/me as Bearer works', async () => {
    const user = await signUpBearer();
    expect(user.body.token_type).toBe('Bearer');
    expect(cnfOf(user.accessToken)).toBeUndefined();
    expect((await sessionOf(t, user.accessToken)).dpop_jkt).toBeNull();
    const refreshed = await refreshWith(t, user.refreshToken);
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(refreshed.json().token_type).toBe('Bearer');
    expect((await getJson(t.app, '/v1/me', bearer(refreshed.json().access_token))).statusCode).toBe(200);
  });

  it('DP-13: TWOFOLD_DPOP=off ignores the DPoP header: a proof (even a bad one) gets bearer tokens, no DPoP-Nonce, and the DPoP scheme is no token', async () => {
    const off = await startTestTwofold({ env: { TWOFOLD_DPOP: 'off' } });
    try {
      const user = await signUpBound(off);
      expect(user.body.token_type).toBe('Bearer');
      expect(cnfOf(user.accessToken)).toBeUndefined();
      expect((await sessionOf(off, user.accessToken)).dpop_jkt).toBeNull();
      const refreshed = await postJson(off.app, '/v1/token/refresh', { refresh_token: user.refreshToken }, { dpop: 'not a proof' });
      expect(refreshed.statusCode, refreshed.body).toBe(200);
      expect(refreshed.headers['dpop-nonce']).toBeUndefined();
      expectProblem(await getJson(off.app, '/v1/me', dpopAuth(refreshed.json().access_token)), 401, 'invalid_token');
      const discovery = await getJson(off.app, '/.well-known/openid-configuration');
      expect(discovery.json()).not.toHaveProperty('dpop_signing_alg_values_supported');
    } finally {
      await off.close();
    }
  });
});

describe('DP-14: refreshing bound and unbound sessions', () => {
  it('DP-14: a bound session\'s refresh without a proof or with another key → 400 invalid_dpop_proof, and the token is not spent', async () => {
    const user = await signUpBound();
    expectProblem(await refreshWith(t, user.refreshToken), 400, 'invalid_dpop_proof');
    expectProblem(await refreshWith(t, user.refreshToken, { key: otherKey }), 400, 'invalid_dpop_proof');
    const row = await t.ctx.db.selectFrom('refresh_tokens').select('used_at').where('token_hash', '=', sha256Base64url(user.refreshToken)).executeTakeFirstOrThrow();
    expect(row.used_at).toBeNull();
    expect((await sessionOf(t, user.accessToken)).state).toBe('active');
    const good = await refreshWith(t, user.refreshToken, {});
    expect(good.statusCode, good.body).toBe(200);
  });

  it('DP-14: an unbound session\'s refresh with a proof → an access token bound to that key; the session stays unbound', async () => {
    const user = await signUpBearer();
    const response = await refreshWith(t, user.refreshToken, { key: otherKey });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().token_type).toBe('DPoP');
    expect(cnfOf(response.json().access_token)).toEqual({ jkt: await calculateJwkThumbprint(otherKey.publicJwk, 'sha256') });
    expect((await sessionOf(t, user.accessToken)).dpop_jkt).toBeNull();
    // Its next refresh may go without a proof: a bearer token again.
    const next = await refreshWith(t, response.json().refresh_token);
    expect(next.statusCode, next.body).toBe(200);
    expect(next.json().token_type).toBe('Bearer');
  });

  it('DP-14: within the reuse grace the rotation\'s answer goes only to the same key: another key or none → 400, the same key → the same pair', async () => {
    const user = await signUpBearer();
    const first = await refreshWith(t, user.refreshToken, {});
    expect(first.statusCode, first.body).toBe(200);
    expectProblem(await refreshWith(t, user.refreshToken, { key: otherKey }), 400, 'invalid_dpop_proof');
    expectProblem(await refreshWith(t, user.refreshToken), 400, 'invalid_dpop_proof');
    const again = await refreshWith(t, user.refreshToken, {});
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ access_token: first.json().access_token, refresh_token: first.json().refresh_token, token_type: 'DPoP' });
    expect((await sessionOf(t, user.accessToken)).state).toBe('active');
  });
});

describe('DP-15: bound tokens on Twofold\'s access-token routes', () => {
  it('DP-15: GET /v1/me with "Authorization: DPoP" and a proof with ath → 200, and DPoP-Nonce in the answer', async () => {
    const user = await signUpBound();
    const response = await meWithProof(t, user.accessToken);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['dpop-nonce']).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('DP-15: a bound token as Bearer → 401 with a DPoP challenge; an unbound token under the DPoP scheme → 401', async () => {
    const bound = await signUpBound();
    expectDpopChallenge(await getJson(t.app, '/v1/me', bearer(bound.accessToken)), 'invalid_token');
    const unbound = await signUpBearer();
    const response = await getJson(t.app, '/v1/me', { ...dpopAuth(unbound.accessToken), dpop: await proofFor(t, 'GET', '/v1/me', { accessToken: unbound.accessToken }) });
    expectDpopChallenge(response, 'invalid_token');
  });

  it('DP-15: the proof is checked on every request — the token\'s cached verification never stands in for it (no proof, the same proof again, another key)', async () => {
    const user = await signUpBound();
    const proof = await proofFor(t, 'GET', '/v1/me', { accessToken: user.accessToken });
    expect((await getJson(t.app, '/v1/me', { ...dpopAuth(user.accessToken), dpop: proof })).statusCode).toBe(200);
    expectDpopChallenge(await getJson(t.app, '/v1/me', dpopAuth(user.accessToken)), 'invalid_dpop_proof');
    expectDpopChallenge(await getJson(t.app, '/v1/me', { ...dpopAuth(user.accessToken), dpop: proof }), 'invalid_dpop_proof');
    expectDpopChallenge(await meWithProof(t, user.accessToken, { key: otherKey }), 'invalid_dpop_proof');
    expect((await meWithProof(t, user.accessToken)).statusCode).toBe(200);
  });
});

describe('DP-16: server nonces', () => {
  let nonced: TestTwofold;
  beforeAll(async () => {
    nonced = await startTestTwofold({ env: { TWOFOLD_DPOP_NONCE: 'required' } });
  });
  afterAll(async () => nonced?.close());

  it('DP-16: a token request without a nonce → 400 use_dpop_nonce with DPoP-Nonce; the retry with it binds the session', async () => {
    const registered = await registerUser(nonced);
    const path = `/v1/factors/${registered.factorId}/verify`;
    const body = { code: totpCode(nonced, registered.secret) };
    const first = await postWithProof(nonced, path, body, bearer(registered.mfaToken));
    expectProblem(first, 400, 'use_dpop_nonce');
    const nonce = first.headers['dpop-nonce'];
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const retry = await postWithProof(nonced, path, body, bearer(registered.mfaToken), { nonce: nonce as string });
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json().token_type).toBe('DPoP');
    expect(retry.headers['dpop-nonce']).toBe(nonce);
  });

  it('DP-16: on GET /v1/me → 401 with WWW-Authenticate error="use_dpop_nonce" and DPoP-Nonce; a nonce two windows old is refused again', async () => {
    const registered = await registerUser(nonced);
    const path = `/v1/factors/${registered.factorId}/verify`;
    const nonce = nonced.ctx.dpop.nonces.issue();
    const signedUp = await postWithProof(nonced, path, { code: totpCode(nonced, registered.secret) }, bearer(registered.mfaToken), { nonce });
    expect(signedUp.statusCode, signedUp.body).toBe(200);
    const accessToken = signedUp.json().access_token as string;

    const without = await meWithProof(nonced, accessToken);
    expectDpopChallenge(without, 'use_dpop_nonce');
    expect(without.headers['dpop-nonce']).toBe(nonce);
    expect((await meWithProof(nonced, accessToken, { nonce })).statusCode).toBe(200);

    nonced.clock.advanceSeconds(2 * nonced.config.dpop.nonceWindowSeconds);
    const stale = await meWithProof(nonced, accessToken, { nonce });
    expectDpopChallenge(stale, 'use_dpop_nonce');
    expect(stale.headers['dpop-nonce']).not.toBe(nonce);
    expect((await meWithProof(nonced, accessToken, { nonce: stale.headers['dpop-nonce'] as string })).statusCode).toBe(200);
  });
});

describe('DP-17: TWOFOLD_DPOP=required', () => {
  let strict: TestTwofold;
  beforeAll(async () => {
    strict = await startTestTwofold({ env: { TWOFOLD_DPOP: 'required' } });
  });
  afterAll(async () => strict?.close());

  it('DP-17: a token request without a proof → 400 invalid_dpop_proof, and nothing is spent; with a proof → bound tokens', async () => {
    const registered = await registerUser(strict);
    const path = `/v1/factors/${registered.factorId}/verify`;
    const body = { code: totpCode(strict, registered.secret) };
    expectProblem(await postJson(strict.app, path, body, bearer(registered.mfaToken)), 400, 'invalid_dpop_proof');
    const response = await postWithProof(strict, path, body, bearer(registered.mfaToken));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().token_type).toBe('DPoP');
    expectProblem(await refreshWith(strict, response.json().refresh_token), 400, 'invalid_dpop_proof');
  });

  it('DP-17: Twofold\'s own routes refuse an access token sent as Bearer with a DPoP challenge; an mfa_token stays a bearer credential', async () => {
    const own = await registerUser(strict);
    const mfaOnly = await postJson(strict.app, '/v1/mfa/challenge', { factor_id: own.factorId }, bearer(own.mfaToken));
    // An mfa_token is a bearer credential of the password step, not an access token: still accepted.
    expect(mfaOnly.statusCode).not.toBe(401);
    const signed = await postWithProof(strict, `/v1/factors/${own.factorId}/verify`, { code: totpCode(strict, own.secret) }, bearer(own.mfaToken));
    expect(signed.statusCode, signed.body).toBe(200);
    // Strip the binding away by presenting it as Bearer: refused.
    expectDpopChallenge(await getJson(strict.app, '/v1/me', bearer(signed.json().access_token)), 'invalid_token');
  });
});

describe('DP-18: discovery and CORS', () => {
  it('DP-18: the discovery document lists dpop_signing_alg_values_supported', async () => {
    const response = await getJson(t.app, '/.well-known/openid-configuration');
    expect(response.statusCode).toBe(200);
    expect(response.json().dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA']);
  });

  it('DP-18: CORS lets a listed origin send DPoP and read DPoP-Nonce and WWW-Authenticate', async () => {
    const open = await startTestTwofold({ env: { TWOFOLD_CORS_ORIGINS: 'https://app.example.com' } });
    try {
      const preflight = await open.app.inject({
        method: 'OPTIONS',
        url: '/v1/token/refresh',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, dpop' },
      });
      expect(preflight.statusCode).toBeLessThan(300);
      expect(String(preflight.headers['access-control-allow-headers']).toLowerCase().split(/, */)).toContain('dpop');
      const answer = await postJson(open.app, '/v1/token/refresh', { refresh_token: 'tfr_x' }, { origin: 'https://app.example.com', dpop: await proofFor(open, 'POST', '/v1/token/refresh') });
      const exposed = String(answer.headers['access-control-expose-headers']).toLowerCase().split(/, */);
      expect(exposed).toEqual(expect.arrayContaining(['dpop-nonce', 'www-authenticate']));
      expect(answer.headers['dpop-nonce']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    } finally {
      await open.close();
    }
  });
});
