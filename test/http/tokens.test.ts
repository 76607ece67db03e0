// Tokens: RFC 9068 access tokens, the JWKS and discovery, refresh rotation with
// reuse detection, logout, and the idle and absolute session limits.
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, postJson, signIn, signUp } from '../helpers/flow.js';
import { startTestTwofold, testPublicUrl, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const refresh = (refreshToken: string) => postJson(t.app, '/v1/token/refresh', { refresh_token: refreshToken });

describe('the access token (RFC 9068)', () => {
  it('JW-11: has typ at+jwt, EdDSA, a kid from the JWKS and every RFC 9068 claim', async () => {
    const user = await signUp(t);
    const header = decodeProtectedHeader(user.accessToken);
    expect(header).toEqual({ alg: 'EdDSA', kid: expect.any(String), typ: 'at+jwt' });
    const jwks = (await getJson(t.app, '/.well-known/jwks.json')).json();
    expect(jwks.keys.map((key: { kid: string }) => key.kid)).toContain(header.kid);
    const claims = decodeJwt(user.accessToken);
    expect(Object.keys(claims).sort()).toEqual(['acr', 'amr', 'aud', 'auth_time', 'client_id', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub'].sort());
    expect(claims).toMatchObject({ iss: testPublicUrl, sub: user.userId, aud: testPublicUrl, client_id: 'twofold', acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(claims.iat).toBe(Math.floor(t.clock.now() / 1000));
  });

  it('verifies with jose against the published JWKS', async () => {
    const user = await signUp(t);
    const jwks = createLocalJWKSet((await getJson(t.app, '/.well-known/jwks.json')).json());
    const { payload } = await jwtVerify(user.accessToken, jwks, {
      issuer: testPublicUrl,
      audience: testPublicUrl,
      typ: 'at+jwt',
      algorithms: ['EdDSA'],
      currentDate: new Date(t.clock.now()),
    });
    expect(payload.sub).toBe(user.userId);
  });

  it('SS-01: two logins give distinct jti, sid and refresh tokens', async () => {
    const user = await signUp(t);
    const first = await signIn(t, user);
    const second = await signIn(t, user);
    expect(decodeJwt(first.accessToken).jti).not.toBe(decodeJwt(second.accessToken).jti);
    expect(decodeJwt(first.accessToken)['sid']).not.toBe(decodeJwt(second.accessToken)['sid']);
    expect(first.refreshToken).not.toBe(second.refreshToken);
    expect(first.refreshToken).toMatch(/^tfr_[A-Za-z0-9_-]{43}$/);
  });

  it('uses TWOFOLD_AUDIENCE and signs with ES256 when configured', async () => {
    const other = await startTestTwofold({ env: { TWOFOLD_AUDIENCE: 'https://api.example', TWOFOLD_SIGNING_ALG: 'ES256', TWOFOLD_CLIENT_ID: 'my-app' } });
    try {
      const user = await signUp(other);
      expect(decodeProtectedHeader(user.accessToken)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
      expect(decodeJwt(user.accessToken)).toMatchObject({ aud: 'https://api.example', client_id: 'my-app' });
      expect(decodeJwt(user.mfaToken).aud).toBe(`${testPublicUrl}/mfa`);
      expect((await getJson(other.app, '/v1/me', bearer(user.accessToken))).statusCode).toBe(200);
      const jwks = (await getJson(other.app, '/.well-known/jwks.json')).json();
      expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    } finally {
      await other.close();
    }
  });
});

describe('discovery', () => {
  it('GET /.well-known/jwks.json publishes public keys only', async () => {
    const response = await getJson(t.app, '/.well-known/jwks.json');
    expect(response.statusCode).toBe(200);
    const { keys } = response.json();
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    }
  });

  it('GET /.well-known/openid-configuration points to the JWKS', async () => {
    const response = await getJson(t.app, '/.well-known/openid-configuration');
    expect(response.json()).toMatchObject({ issuer: testPublicUrl, jwks_uri: `${testPublicUrl}/.well-known/jwks.json` });
  });
});

describe('refresh tokens', () => {
  it('rotate on each use and never change auth_time, acr or amr (SS-04)', async () => {
    const user = await signUp(t);
    const original = decodeJwt(user.accessToken);
    t.clock.advanceSeconds(300);
    const first = await refresh(user.refreshToken);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    const rotated = first.json();
    expect(rotated.refresh_token).not.toBe(user.refreshToken);
    const claims = decodeJwt(rotated.access_token);
    expect(claims).toMatchObject({ auth_time: original.auth_time, acr: 'aal2', amr: original.amr, sid: original['sid'], sub: user.userId });
    expect(claims.iat).toBe(original.iat! + 300);
    expect(claims.jti).not.toBe(original.jti);
    t.clock.advanceSeconds(300);
    expect((await refresh(rotated.refresh_token)).statusCode).toBe(200);
  });

  it('SS-02: reusing a rotated token after the reuse grace revokes the whole family', async () => {
    const user = await signUp(t);
    const rotated = (await refresh(user.refreshToken)).json();
    t.clock.advanceSeconds(10); // TWOFOLD_REFRESH_REUSE_GRACE_SECONDS (test/http/refresh-grace.test.ts has the grace itself)
    expectProblem(await refresh(user.refreshToken), 401, 'invalid_token');
    expectProblem(await refresh(rotated.refresh_token), 401, 'invalid_token');
    expectProblem(await getJson(t.app, '/v1/me', bearer(rotated.access_token)), 401, 'invalid_token');
    expect(t.events.some((event) => event.type === 'token.refresh_reuse_detected' && event.userId === user.userId)).toBe(true);
  });

  it('SS-02: a spent token presented 20 times at once after the reuse grace — every one refused and the family revoked', async () => {
    const user = await signUp(t);
    const rotated = (await refresh(user.refreshToken)).json();
    t.clock.advanceSeconds(10);
    const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(user.refreshToken)));
    for (const response of responses) expectProblem(response, 401, 'invalid_token');
    expectProblem(await refresh(rotated.refresh_token), 401, 'invalid_token');
    const session = await t.ctx.db.selectFrom('sessions').selectAll().where('id', '=', decodeJwt(user.accessToken)['sid'] as string).executeTakeFirstOrThrow();
    expect(session.state).toBe('revoked');
  });

  it('are stored only as SHA-256 digests', async () => {
    const user = await signUp(t);
    const rows = await t.ctx.db.selectFrom('refresh_tokens').selectAll().execute();
    expect(rows.some((row) => row.token_hash === user.refreshToken)).toBe(false);
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha256').update(user.refreshToken).digest('base64url');
    expect(rows.some((row) => row.token_hash === digest)).toBe(true);
  });

  it('unknown, malformed and mfa tokens are refused with 401 invalid_token', async () => {
    const user = await signUp(t);
    for (const token of ['tfr_' + 'A'.repeat(43), 'tfr_short', user.accessToken, user.mfaToken, '']) {
      expectProblem(await refresh(token), 401, 'invalid_token');
    }
  });
});

describe('logout', () => {
  it('SS-05: kills the refresh family and the access tokens of the session', async () => {
    const user = await signUp(t);
    const other = await signIn(t, user);
    expect((await postJson(t.app, '/v1/logout', {}, bearer(user.accessToken))).statusCode).toBe(204);
    expectProblem(await getJson(t.app, '/v1/me', bearer(user.accessToken)), 401, 'invalid_token');
    expectProblem(await refresh(user.refreshToken), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/logout', {}, bearer(user.accessToken)), 401, 'invalid_token');
    // Another session of the same user is untouched.
    expect((await getJson(t.app, '/v1/me', bearer(other.accessToken))).statusCode).toBe(200);
  });

  it('also ends another own session named by its refresh token, and ignores a stranger’s', async () => {
    const user = await signUp(t);
    const second = await signIn(t, user);
    const stranger = await signUp(t);
    const response = await postJson(t.app, '/v1/logout', { refresh_token: second.refreshToken }, bearer(user.accessToken));
    expect(response.statusCode).toBe(204);
    expectProblem(await refresh(second.refreshToken), 401, 'invalid_token');
    const strangerLogout = await postJson(t.app, '/v1/logout', { refresh_token: stranger.refreshToken }, bearer((await signIn(t, user)).accessToken));
    expect(strangerLogout.statusCode).toBe(204);
    expect((await refresh(stranger.refreshToken)).statusCode).toBe(200);
  });

  it('works without a body', async () => {
    const user = await signUp(t);
    const response = await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer(user.accessToken) });
    expect(response.statusCode, response.body).toBe(204);
  });
});

describe('session limits (SS-03)', () => {
  it('idle: a session unused for 30 minutes cannot be refreshed', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(29 * 60);
    const kept = await refresh(user.refreshToken);
    expect(kept.statusCode).toBe(200);
    t.clock.advanceSeconds(31 * 60);
    expectProblem(await refresh(kept.json().refresh_token), 401, 'invalid_token');
  });

  it('absolute: even an active session ends 12 hours after sign-in', async () => {
    const user = await signUp(t);
    let refreshToken = user.refreshToken;
    let elapsedMinutes = 0;
    while (elapsedMinutes + 9 < 12 * 60) {
      t.clock.advanceSeconds(9 * 60);
      elapsedMinutes += 9;
      const response = await refresh(refreshToken);
      expect(response.statusCode, `after ${elapsedMinutes} min`).toBe(200);
      refreshToken = response.json().refresh_token;
    }
    t.clock.advanceSeconds((12 * 60 - elapsedMinutes + 1) * 60);
    expectProblem(await refresh(refreshToken), 401, 'invalid_token');
  });

  it('an access token is refused after its 10 minutes (plus at most 60 s of skew)', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(600 + 30);
    expect((await getJson(t.app, '/v1/me', bearer(user.accessToken))).statusCode).toBe(200);
    t.clock.advanceSeconds(31);
    expectProblem(await getJson(t.app, '/v1/me', bearer(user.accessToken)), 401, 'invalid_token');
  });
});

describe('GET /v1/me', () => {
  it('returns the user, factors without secrets, and the session (FL-09)', async () => {
    const user = await signUp(t);
    const response = await getJson(t.app, '/v1/me', bearer(user.accessToken));
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.user).toMatchObject({ id: user.userId, username: user.username });
    expect(body.factors).toEqual([expect.objectContaining({ id: user.factorId, type: 'totp', status: 'active' })]);
    expect(body.session).toMatchObject({ id: decodeJwt(user.accessToken)['sid'], acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    expect(response.body).not.toContain(user.secret);
    for (const code of user.recoveryCodes) expect(response.body).not.toContain(code);
    expect(response.body).not.toMatch(/ciphertext|hash|v1\./);
  });
});
