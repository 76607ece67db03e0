// Managing factors: list, rename, remove, recovery-code regeneration,
// and the step-up (RFC 9470) that the sensitive ones need.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, signIn, signUp, totpCode } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const patch = (url: string, body: unknown, token: string) => t.app.inject({ method: 'PATCH', url, payload: body as object, headers: { ...bearer(token), 'content-type': 'application/json' } });
const remove = (url: string, token: string) => t.app.inject({ method: 'DELETE', url, headers: bearer(token) });

/** A user with two active authenticator apps and a fresh access token. */
async function userWithTwoApps() {
  const user = await signUp(t);
  const enrollment = (await postJson(t.app, '/v1/factors', { type: 'totp', label: 'Backup' }, bearer(user.accessToken))).json();
  expect((await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: totpCode(t, enrollment.secret) }, bearer(user.accessToken))).statusCode).toBe(200);
  return { ...user, second: { factorId: enrollment.factor_id as string, secret: enrollment.secret as string } };
}

/** Step-up with the user's first app: a new access token with a new auth_time. */
async function stepUp(user: { accessToken: string; secret: string }): Promise<string> {
  t.clock.advanceSeconds(30);
  const response = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(user.accessToken));
  expect(response.statusCode, response.body).toBe(200);
  return response.json().access_token;
}

describe('listing and renaming', () => {
  it('GET /v1/factors lists id, type, label, status and times — never a secret', async () => {
    const user = await userWithTwoApps();
    const response = await getJson(t.app, '/v1/factors', bearer(user.accessToken));
    const { factors } = response.json();
    // Both were created at the same (test) instant: compare regardless of order.
    expect(factors.map((f: { type: string; label: string | null; status: string }) => [f.type, f.label ?? '', f.status]).sort()).toEqual([
      ['totp', '', 'active'],
      ['totp', 'Backup', 'active'],
    ]);
    expect(Object.keys(factors[0]).sort()).toEqual(['activated_at', 'created_at', 'destination', 'id', 'label', 'last_used_at', 'status', 'type']);
    expect(response.body).not.toContain(user.secret);
    expect(response.body).not.toContain(user.second.secret);
  });

  it('PATCH /v1/factors/{id} renames a factor of the caller only', async () => {
    const user = await signUp(t);
    const other = await signUp(t);
    const renamed = await patch(`/v1/factors/${user.factorId}`, { label: '  Work phone ' }, user.accessToken);
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json().factor).toMatchObject({ id: user.factorId, label: 'Work phone' });
    expectProblem(await patch(`/v1/factors/${other.factorId}`, { label: 'mine now' }, user.accessToken), 404, 'not_found');
    expect((await patch(`/v1/factors/${user.factorId}`, { label: null }, user.accessToken)).json().factor.label).toBeNull();
    expect(t.events.some((event) => event.type === 'factor.renamed' && event.factorId === user.factorId)).toBe(true);
  });

  it('FL-01: an mfa_token cannot list, rename or remove factors, nor regenerate recovery codes', async () => {
    const user = await signUp(t);
    const mfaToken = await loginForMfaToken(t, user);
    expectProblem(await getJson(t.app, '/v1/factors', bearer(mfaToken)), 401, 'invalid_token');
    expectProblem(await patch(`/v1/factors/${user.factorId}`, { label: 'x' }, mfaToken), 401, 'invalid_token');
    expectProblem(await remove(`/v1/factors/${user.factorId}`, mfaToken), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/recovery-codes', {}, bearer(mfaToken)), 401, 'invalid_token');
  });
});

describe('removing factors', () => {
  it('SS-09: removing an active factor needs a recent second factor (RFC 9470 challenge), then works', async () => {
    const user = await userWithTwoApps();
    t.clock.advanceSeconds(6 * 60);
    const stale = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json().access_token;
    const refused = await remove(`/v1/factors/${user.second.factorId}`, stale);
    expectProblem(refused, 401, 'insufficient_authentication');
    expect(refused.headers['www-authenticate']).toMatch(/insufficient_user_authentication.*max_age=300/);

    const fresh = await stepUp({ accessToken: stale, secret: user.secret });
    expect((await remove(`/v1/factors/${user.second.factorId}`, fresh)).statusCode).toBe(204);
    const factors = (await getJson(t.app, '/v1/factors', bearer(fresh))).json().factors;
    expect(factors.map((factor: { id: string }) => factor.id)).toEqual([user.factorId]);
    expect(t.events.some((event) => event.type === 'factor.removed' && event.factorId === user.second.factorId)).toBe(true);
  });

  it('MG-06: a removed factor stops working at once', async () => {
    const user = await userWithTwoApps();
    expect((await remove(`/v1/factors/${user.second.factorId}`, user.accessToken)).statusCode).toBe(204);
    t.clock.advanceSeconds(60);
    const mfaToken = await loginForMfaToken(t, user);
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.second.secret) }, bearer(mfaToken)), 401, 'invalid_code');
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { factor_id: user.second.factorId, code: totpCode(t, user.second.secret) }, bearer(mfaToken)), 404, 'not_found');
  });

  it('the last active factor cannot be removed; a pending one can, without step-up', async () => {
    const user = await signUp(t);
    expectProblem(await remove(`/v1/factors/${user.factorId}`, user.accessToken), 403, 'forbidden');
    const pending = (await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(user.accessToken))).json();
    t.clock.advanceSeconds(6 * 60);
    const stale = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json().access_token;
    expect((await remove(`/v1/factors/${pending.factor_id}`, stale)).statusCode).toBe(204);
  });

  it('two concurrent removals of the last two factors leave one', async () => {
    const user = await userWithTwoApps();
    const [a, b] = await Promise.all([remove(`/v1/factors/${user.factorId}`, user.accessToken), remove(`/v1/factors/${user.second.factorId}`, user.accessToken)]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([204, 403]);
    const factors = (await getJson(t.app, '/v1/factors', bearer(user.accessToken))).json().factors;
    expect(factors.filter((factor: { status: string }) => factor.status === 'active')).toHaveLength(1);
  });
});

describe('step-up (RFC 9470)', () => {
  it('an access token plus a fresh factor gives a new access token with a new auth_time for the same session', async () => {
    const user = await signUp(t);
    const before = decodeJwt(user.accessToken);
    t.clock.advanceSeconds(10 * 60);
    const refreshed = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json();
    const response = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(refreshed.access_token));
    expect(response.statusCode, response.body).toBe(200);
    expect(Object.keys(response.json()).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    const after = decodeJwt(response.json().access_token);
    expect(after['sid']).toBe(before['sid']);
    expect(after['auth_time']).toBe(Math.floor(t.clock.now() / 1000));
    expect(after['auth_time']).toBeGreaterThan(before['auth_time'] as number);
    // The session now carries the new auth_time: a refresh keeps it (SS-04).
    const next = (await postJson(t.app, '/v1/token/refresh', { refresh_token: refreshed.refresh_token })).json();
    expect(decodeJwt(next.access_token)['auth_time']).toBe(after['auth_time']);
    expect(t.events.some((event) => event.type === 'step_up.completed' && event.userId === user.userId)).toBe(true);
  });

  it('a replayed code cannot step up; five wrong step-up codes end the session', async () => {
    const user = await signUp(t);
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(user.accessToken)), 401, 'invalid_code');
    const wrong = totpCode(t, user.secret, 1) === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i += 1) expectProblem(await postJson(t.app, '/v1/mfa/verify', { code: wrong }, bearer(user.accessToken)), 401, 'invalid_code');
    expectProblem(await getJson(t.app, '/v1/me', bearer(user.accessToken)), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken }), 401, 'invalid_token');
  });

  it('a recovery code can step up too', async () => {
    const user = await signUp(t);
    const response = await postJson(t.app, '/v1/mfa/verify', { recovery_code: user.recoveryCodes[0] }, bearer(user.accessToken));
    expect(response.statusCode).toBe(200);
    expect(decodeJwt(response.json().access_token)['amr']).toEqual(['pwd', 'rc', 'mfa']);
  });
});

describe('recovery codes (RC-01/RC-05)', () => {
  it('POST /v1/recovery-codes needs a recent factor, issues 10 new codes and kills the old ones', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(6 * 60);
    const stale = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json().access_token;
    expectProblem(await postJson(t.app, '/v1/recovery-codes', {}, bearer(stale)), 401, 'insufficient_authentication');
    const fresh = await stepUp({ accessToken: stale, secret: user.secret });
    const response = await postJson(t.app, '/v1/recovery-codes', {}, bearer(fresh));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const codes: string[] = response.json().recovery_codes;
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(user.recoveryCodes).not.toContain(code);
    expect((await getJson(t.app, '/v1/me', bearer(fresh))).json().recovery_codes_remaining).toBe(10);

    t.clock.advanceSeconds(30);
    const old = await loginForMfaToken(t, user);
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { recovery_code: user.recoveryCodes[0] }, bearer(old)), 401, 'invalid_code');
    expect((await postJson(t.app, '/v1/mfa/verify', { recovery_code: codes[0] }, bearer(old))).statusCode).toBe(200);
  });

  it('/v1/me shows how many codes remain, never the codes', async () => {
    const user = await signUp(t);
    await signIn(t, user);
    const me = await getJson(t.app, '/v1/me', bearer(user.accessToken));
    expect(me.json().recovery_codes_remaining).toBe(10);
    for (const code of user.recoveryCodes) expect(me.body).not.toContain(code);
  });
});
