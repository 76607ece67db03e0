// Factor enrollment and confirmation: first enrollment with the
// mfa_token, later ones only with a recent access token (step-up).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetFactors } from '../../src/flows/account/admin.js';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, registerUser, signIn, signUp, totpCode } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

describe('POST /v1/factors/{id}/verify with the registration mfa_token', () => {
  it('activates the factor and completes the first sign-in: tokens plus 10 recovery codes', async () => {
    const user = await registerUser(t);
    const response = await postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code: totpCode(t, user.secret) }, bearer(user.mfaToken));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'factor', 'recovery_codes', 'refresh_token', 'token_type']);
    expect(body.factor).toMatchObject({ id: user.factorId, type: 'totp', status: 'active' });
    expect(new Set(body.recovery_codes).size).toBe(10);
    expect((await getJson(t.app, '/v1/me', bearer(body.access_token))).statusCode).toBe(200);
  });

  it('a wrong code is 401 invalid_code and counts against the mfa_token', async () => {
    const user = await registerUser(t);
    const wrong = totpCode(t, user.secret) === '123456' ? '654321' : '123456';
    const body = expectProblem(await postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code: wrong }, bearer(user.mfaToken)), 401, 'invalid_code');
    expect(body['attempts_remaining']).toBe(4);
  });

  it("someone else's factor is 404; an active factor cannot be confirmed again", async () => {
    const victim = await registerUser(t);
    const attacker = await registerUser(t);
    expectProblem(await postJson(t.app, `/v1/factors/${victim.factorId}/verify`, { code: totpCode(t, victim.secret) }, bearer(attacker.mfaToken)), 404, 'not_found');
    const user = await signUp(t);
    expectProblem(await postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code: totpCode(t, user.secret, 1) }, bearer(user.accessToken)), 400, 'invalid_request');
  });

  it('the mfa_token is spent by the confirmation: it cannot confirm or verify again', async () => {
    const user = await registerUser(t);
    expect((await postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code: totpCode(t, user.secret) }, bearer(user.mfaToken))).statusCode).toBe(200);
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret, 1) }, bearer(user.mfaToken)), 401, 'invalid_token');
  });
});

describe('POST /v1/factors', () => {
  it('with a fresh access token enrolls a second authenticator, confirmed without new tokens', async () => {
    const user = await signUp(t);
    const enroll = await postJson(t.app, '/v1/factors', { type: 'totp', label: ' Backup phone ' }, bearer(user.accessToken));
    expect(enroll.statusCode, enroll.body).toBe(201);
    const enrollment = enroll.json();
    expect(enrollment).toMatchObject({ type: 'totp', status: 'pending', label: 'Backup phone' });
    expect(enrollment.secret).not.toBe(user.secret);
    const confirm = await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: totpCode(t, enrollment.secret) }, bearer(user.accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(Object.keys(confirm.json())).toEqual(['factor']);
    const factors = (await getJson(t.app, '/v1/factors', bearer(user.accessToken))).json().factors;
    expect(factors.map((factor: { status: string }) => factor.status)).toEqual(['active', 'active']);
    t.clock.advanceSeconds(60);
    const mfaToken = await loginForMfaToken(t, user);
    const response = await postJson(t.app, '/v1/mfa/verify', { factor_id: enrollment.factor_id, code: totpCode(t, enrollment.secret) }, bearer(mfaToken));
    expect(response.statusCode).toBe(200);
  });

  it('SS-09: with an access token whose second factor is older than 5 minutes it needs step-up (RFC 9470)', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(6 * 60);
    const refreshed = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json();
    const response = await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(refreshed.access_token));
    const body = expectProblem(response, 401, 'insufficient_authentication');
    expect(body['max_age']).toBe(300);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer error="insufficient_user_authentication".*max_age=300/);
    const fresh = await signIn(t, user);
    expect((await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(fresh.accessToken))).statusCode).toBe(201);
  });

  it('with an mfa_token is refused once a factor is active — a password alone cannot add a factor', async () => {
    const user = await signUp(t);
    const mfaToken = await loginForMfaToken(t, user);
    expectProblem(await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(mfaToken)), 403, 'forbidden');
  });

  it('refuses factor types that are not enabled', async () => {
    const user = await signUp(t);
    expectProblem(await postJson(t.app, '/v1/factors', { type: 'email', email: 'someone@example.com' }, bearer(user.accessToken)), 403, 'forbidden');
    expectProblem(await postJson(t.app, '/v1/factors', { type: 'hotp' }, bearer(user.accessToken)), 400, 'invalid_request');
  });

  it('OT-07: there is no way to read a secret back', async () => {
    const user = await signUp(t);
    expectProblem(await getJson(t.app, `/v1/factors/${user.factorId}`, bearer(user.accessToken)), 405, 'method_not_allowed');
    const list = await getJson(t.app, '/v1/factors', bearer(user.accessToken));
    expect(list.body).not.toContain(user.secret);
  });
});

describe('after an admin reset (MG-03)', () => {
  it('the next login must enroll a new factor; old recovery codes and sessions are dead', async () => {
    const user = await signUp(t);
    const result = await resetFactors(t.ctx, user.username, 'test');
    expect(result).toMatchObject({ factorsRemoved: 1, recoveryCodesRemoved: 10, sessionsRevoked: 1 });
    expectProblem(await getJson(t.app, '/v1/me', bearer(user.accessToken)), 401, 'invalid_token');

    const login = (await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json();
    expect(login).toMatchObject({ next: 'enroll', factors: [] });
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { recovery_code: user.recoveryCodes[0] }, bearer(login.mfa_token)), 401, 'invalid_code');

    const mfaToken = await loginForMfaToken(t, user);
    const enroll = await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(mfaToken));
    expect(enroll.statusCode, enroll.body).toBe(201);
    const confirm = await postJson(t.app, `/v1/factors/${enroll.json().factor_id}/verify`, { code: totpCode(t, enroll.json().secret) }, bearer(mfaToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(confirm.json().recovery_codes).toHaveLength(10);
    expect(t.events.some((event) => event.type === 'admin.factors_reset' && event.userId === user.userId)).toBe(true);
  });
});
