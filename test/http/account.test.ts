// Sessions, password change and the recent security events (what the account page shows, through
// the API): SS-06, SS-07, SS-09, PW-07, LOG-01/MG-04.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, postJson, signIn, signUp, totpCode } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const remove = (url: string, token: string) => t.app.inject({ method: 'DELETE', url, headers: bearer(token) });

describe('sessions (SS-07)', () => {
  it('GET /v1/sessions lists the signed-in sessions, marking the current one', async () => {
    const user = await signUp(t);
    const second = await signIn(t, user);
    const response = await getJson(t.app, '/v1/sessions', bearer(second.accessToken));
    expect(response.statusCode, response.body).toBe(200);
    const sessions = response.json().sessions;
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((session: { current: boolean }) => session.current).map((session: { id: string }) => session.id)).toEqual([decodeJwt(second.accessToken)['sid']]);
    expect(sessions[0]).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
  });

  it('ending another session needs a recent factor; then its tokens die', async () => {
    const user = await signUp(t);
    const other = await signIn(t, user);
    const otherSid = decodeJwt(other.accessToken)['sid'] as string;
    t.clock.advanceSeconds(6 * 60);
    const stale = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json();
    expectProblem(await remove(`/v1/sessions/${otherSid}`, stale.access_token), 401, 'insufficient_authentication');
    const fresh = (await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(stale.access_token))).json().access_token;
    expect((await remove(`/v1/sessions/${otherSid}`, fresh)).statusCode).toBe(204);
    expectProblem(await getJson(t.app, '/v1/me', bearer(other.accessToken)), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/token/refresh', { refresh_token: other.refreshToken }), 401, 'invalid_token');
  });

  it('ending the current session is a logout and needs no step-up; a stranger’s session is not found', async () => {
    const user = await signUp(t);
    const stranger = await signUp(t);
    expectProblem(await remove(`/v1/sessions/${decodeJwt(stranger.accessToken)['sid']}`, user.accessToken), 404, 'not_found');
    t.clock.advanceSeconds(6 * 60);
    const stale = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json().access_token;
    expect((await remove(`/v1/sessions/${decodeJwt(stale)['sid']}`, stale)).statusCode).toBe(204);
    expectProblem(await getJson(t.app, '/v1/me', bearer(stale)), 401, 'invalid_token');
  });
});

describe('password change (PW-07, SS-06, SS-09)', () => {
  it('needs the current password and a recent factor, applies the policy, and ends the other sessions', async () => {
    const user = await signUp(t);
    const other = await signIn(t, user);
    const change = (body: Record<string, string>, token = user.accessToken) => postJson(t.app, '/v1/password', body, bearer(token));
    const before = (await t.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow()).failed_attempts;
    expectProblem(await change({ current_password: 'not the current one', new_password: 'a brand new passphrase' }), 401, 'invalid_credentials');
    const after = (await t.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow()).failed_attempts;
    expect(after).toBe(before + 1);
    expectProblem(await change({ current_password: user.password, new_password: 'password1234' }), 400, 'weak_password');

    // The first session is 30 s older than the second; still recent. Make it stale to see the step-up.
    t.clock.advanceSeconds(6 * 60);
    const stale = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json().access_token;
    expectProblem(await change({ current_password: user.password, new_password: 'a brand new passphrase' }, stale), 401, 'insufficient_authentication');

    const fresh = (await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(stale))).json().access_token;
    expect((await change({ current_password: user.password, new_password: 'a brand new passphrase' }, fresh)).statusCode).toBe(204);
    expectProblem(await getJson(t.app, '/v1/me', bearer(other.accessToken)), 401, 'invalid_token');
    expect((await getJson(t.app, '/v1/me', bearer(fresh))).statusCode).toBe(200);
    expectProblem(await postJson(t.app, '/v1/login', { username: user.username, password: user.password }), 401, 'invalid_credentials');
    expect((await postJson(t.app, '/v1/login', { username: user.username, password: 'a brand new passphrase' })).statusCode).toBe(200);
  });
});

describe('recent security events (MG-04)', () => {
  it('GET /v1/events lists what happened to the account, newest first, without secrets', async () => {
    const user = await signUp(t);
    await postJson(t.app, '/v1/login', { username: user.username, password: 'a wrong password here' });
    const response = await getJson(t.app, '/v1/me/events?limit=10', bearer(user.accessToken));
    expect(response.statusCode, response.body).toBe(200);
    const types = response.json().events.map((event: { type: string }) => event.type);
    expect(types).toEqual(expect.arrayContaining(['user.registered', 'factor.activated', 'login.completed', 'login.password_failed']));
    expect(types[0]).toBe('login.password_failed');
    expect(response.body).not.toContain(user.secret);
    expect(response.body).not.toContain(user.password);
    expectProblem(await getJson(t.app, '/v1/me/events?limit=1000', bearer(user.accessToken)), 400, 'invalid_request');
  });

  it('events of other users are not shown', async () => {
    const user = await signUp(t);
    const other = await signUp(t);
    const events = (await getJson(t.app, '/v1/me/events', bearer(user.accessToken))).json().events;
    const rows = await t.ctx.db.selectFrom('security_events').select(['user_id']).where('user_id', '=', other.userId).execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(events.length).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain(other.userId);
  });
});

describe('step-up for ending sessions, and factor removal (SS-06, SS-09)', () => {
  it('DELETE /v1/sessions ends every other session, and needs a recent factor', async () => {
    const user = await signUp(t);
    const others = [await signIn(t, user), await signIn(t, user)];
    t.clock.advanceSeconds(6 * 60);
    const stale = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json().access_token;
    expectProblem(await remove('/v1/sessions', stale), 401, 'insufficient_authentication');
    const fresh = (await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(stale))).json().access_token;
    const response = await remove('/v1/sessions', fresh);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ sessions_ended: 2 });
    for (const other of others) expectProblem(await getJson(t.app, '/v1/me', bearer(other.accessToken)), 401, 'invalid_token');
    expect((await getJson(t.app, '/v1/me', bearer(fresh))).statusCode).toBe(200);
  });

  it('removing a factor ends the user’s other sessions', async () => {
    const user = await signUp(t);
    const enrollment = (await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(user.accessToken))).json();
    await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: totpCode(t, enrollment.secret) }, bearer(user.accessToken));
    const other = await signIn(t, user);
    const remover = (await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret, 1) }, bearer(user.accessToken))).json().access_token;
    expect((await remove(`/v1/factors/${enrollment.factor_id}`, remover)).statusCode).toBe(204);
    expectProblem(await getJson(t.app, '/v1/me', bearer(other.accessToken)), 401, 'invalid_token');
    expect((await getJson(t.app, '/v1/me', bearer(remover))).statusCode).toBe(200);
  });
});
