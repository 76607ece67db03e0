// The whole two-factor flow through the HTTP API, step by step: register, confirm,
// log in, second factor, me, refresh, logout.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, registerUser, strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { startTestTwofold, testPublicUrl, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

describe('the two-factor flow', () => {
  it('register → confirm → login → verify → me → refresh → logout', async () => {
    const username = uniqueUsername('Flow');
    const registered = await registerUser(t, { username, password: strongPassword, email: 'flow@example.com' });
    expect(registered.body.next).toBe('enroll');
    expect(registered.body.user.username).toBe(username.toLowerCase());

    const confirm = await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    const confirmed = confirm.json();
    expect(confirmed.recovery_codes).toHaveLength(10);
    expect(confirmed.factor.status).toBe('active');
    expect(confirm.headers['cache-control']).toBe('no-store');

    t.clock.advanceSeconds(30);
    const login = await postJson(t.app, '/v1/login', { username, password: strongPassword });
    expect(login.statusCode).toBe(200);
    expect(login.json()).toMatchObject({ next: 'verify', factors: [{ id: registered.factorId, type: 'totp' }] });

    const verify = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, registered.secret) }, bearer(login.json().mfa_token));
    expect(verify.statusCode, verify.body).toBe(200);
    const tokens = verify.json();
    expect(tokens.token_type).toBe('Bearer');
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'EdDSA' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: testPublicUrl, aud: testPublicUrl, acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });

    const me = await getJson(t.app, '/v1/me', bearer(tokens.access_token));
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json().user.username).toBe(username.toLowerCase());
    expect(me.json().recovery_codes_remaining).toBe(10);

    const refreshed = await postJson(t.app, '/v1/token/refresh', { refresh_token: tokens.refresh_token });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(refreshed.json().refresh_token).not.toBe(tokens.refresh_token);

    const logout = await postJson(t.app, '/v1/logout', {}, bearer(refreshed.json().access_token));
    expect(logout.statusCode, logout.body).toBe(204);
    expectProblem(await getJson(t.app, '/v1/me', bearer(refreshed.json().access_token)), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/token/refresh', { refresh_token: refreshed.json().refresh_token }), 401, 'invalid_token');
  });

  it('login of a user without an active factor says next: enroll', async () => {
    const registered = await registerUser(t);
    const mfaToken = await loginForMfaToken(t, registered);
    expect(mfaToken).toMatch(/^ey/);
  });
});
