// Attacks on the admin API: stale or weak sessions, a support person writing, an admin
// acting on another admin, missing reasons, unknown targets and hostile search parameters — each
// refused with its problem code, never a 500, and nothing changed by a refused call.
// AD-01, AD-02 (docs/security-requirements.md) and AD-04…AD-10 for this API's own limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, loginForMfaToken, postJson, signUp, totpCode } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';
import { adminCall, secretsOf, signUpWithRoles, writeRoutes } from '../admin/admin-helpers.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

/** What a refused write must leave as it was. */
async function stateOf(userId: string) {
  const user = await t.ctx.db.selectFrom('users').select(['locked_at', 'disabled_at', 'delete_after', 'password_reset_required_at', 'credentials_changed_at']).where('id', '=', userId).executeTakeFirstOrThrow();
  const factors = await t.ctx.db.selectFrom('factors').select('id').where('user_id', '=', userId).execute();
  const roles = await t.ctx.db.selectFrom('user_roles').select('role').where('user_id', '=', userId).execute();
  const sessions = await t.ctx.db.selectFrom('sessions').select(['id', 'state']).where('user_id', '=', userId).orderBy('id').execute();
  return { user, factors: factors.length, roles: roles.map((row) => row.role).sort(), sessions };
}

describe('step-up and session strength (AD-01, AD-04)', () => {
  it('AD-01: an admin token without a second factor in the last 5 minutes gets 401 insufficient_authentication with max_age=300; a fresh factor lets it in', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    t.clock.advanceSeconds(301);
    const stale = await adminCall(t, admin.accessToken, 'GET', '/v1/admin/users');
    const problem = expectProblem(stale, 401, 'insufficient_authentication');
    expect(problem).toMatchObject({ max_age: 300, acr_values: 'aal2' });
    expect(stale.headers['www-authenticate']).toMatch(/error="insufficient_user_authentication".*max_age=300/);
    const target = await signUp(t);
    const before = await stateOf(target.userId);
    expectProblem(await adminCall(t, admin.accessToken, 'POST', `/v1/admin/users/${target.userId}/reset-second-factors`, { reason: 'ticket 1' }), 401, 'insufficient_authentication');
    expect(await stateOf(target.userId)).toEqual(before);
    const stepUp = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, admin.secret) }, bearer(admin.accessToken));
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    expect((await adminCall(t, stepUp.json().access_token, 'GET', '/v1/admin/users')).statusCode).toBe(200);
  });

  it('AD-04: an aal1 session (a remembered browser standing in for the factor) is refused with a step-up challenge, even fresh', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    t.clock.advanceSeconds(30);
    const remembered = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, admin.secret), remember_device: true }, bearer(await loginForMfaToken(t, admin)));
    const deviceToken = remembered.json().device_token as string;
    const aal1 = await postJson(t.app, '/v1/mfa/verify', { device_token: deviceToken }, bearer(await loginForMfaToken(t, admin)));
    expect(aal1.statusCode, aal1.body).toBe(200);
    expectProblem(await adminCall(t, aal1.json().access_token, 'GET', '/v1/admin/users'), 401, 'insufficient_authentication');
  });

  it('AD-10: no role → 403 on every admin route before the body is read; an mfa_token or no token → 401', async () => {
    const nobody = await signUp(t);
    const target = await signUp(t);
    expectProblem(await adminCall(t, nobody.accessToken, 'GET', '/v1/admin/users'), 403, 'forbidden');
    expectProblem(await adminCall(t, nobody.accessToken, 'GET', `/v1/admin/users/${target.userId}`), 403, 'forbidden');
    for (const route of writeRoutes(target.userId)) {
      expectProblem(await adminCall(t, nobody.accessToken, route.method, route.url, { not: 'a valid body' }), 403, 'forbidden');
    }
    const mfaToken = await loginForMfaToken(t, nobody);
    expectProblem(await adminCall(t, mfaToken, 'GET', '/v1/admin/users'), 401, 'invalid_token');
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/admin/users' }), 401, 'invalid_token');
  });
});

describe('roles (AD-05, AD-06)', () => {
  it('AD-05: the support role calling every write route → 403, nothing changed', async () => {
    const support = await signUpWithRoles(t, ['support']);
    const target = await signUp(t);
    const before = await stateOf(target.userId);
    for (const route of writeRoutes(target.userId)) {
      expectProblem(await adminCall(t, support.accessToken, route.method, route.url, route.body), 403, 'forbidden');
    }
    expect(await stateOf(target.userId)).toEqual(before);
    // Reads are allowed.
    expect((await adminCall(t, support.accessToken, 'GET', `/v1/admin/users/${target.userId}`)).statusCode).toBe(200);
  });

  it('AD-06: an admin acting on another admin (or on themself) without the superadmin right → 403 on every write; a superadmin may', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const otherAdmin = await signUpWithRoles(t, ['admin']);
    for (const target of [otherAdmin, admin]) {
      const before = await stateOf(target.userId);
      for (const route of writeRoutes(target.userId)) {
        expectProblem(await adminCall(t, admin.accessToken, route.method, route.url, route.body), 403, 'forbidden');
      }
      expect(await stateOf(target.userId)).toEqual(before);
    }
    // Nor can an admin make anyone an admin, or anyone a superadmin.
    const someone = await signUp(t);
    expectProblem(await adminCall(t, admin.accessToken, 'POST', `/v1/admin/users/${someone.userId}/roles`, { role: 'admin', reason: 'promote' }), 403, 'forbidden');
    expectProblem(await adminCall(t, admin.accessToken, 'POST', `/v1/admin/users/${someone.userId}/roles`, { role: 'superadmin', reason: 'promote' }), 403, 'forbidden');
    const superadmin = await signUpWithRoles(t, ['superadmin']);
    const reset = await adminCall(t, superadmin.accessToken, 'POST', `/v1/admin/users/${otherAdmin.userId}/reset-second-factors`, { reason: 'their phone was stolen' });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json()).toMatchObject({ enroll_required: true, roles: ['admin'] });
  });
});

describe('reasons and targets (AD-07, AD-08)', () => {
  it('AD-07: a missing, empty, too short, too long or control-character reason → 400 invalid_request, nothing changed', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const target = await signUp(t);
    const before = await stateOf(target.userId);
    const bodies: unknown[] = [{}, { reason: '' }, { reason: '  x ' }, { reason: 'x'.repeat(501) }, { reason: 'y'.repeat(5000) }, { reason: 'ok\u202etext' }, { reason: 'ok\u0000nul' }, { reason: 42 }, { reason: ['a reason'] }];
    for (const route of writeRoutes(target.userId)) {
      for (const body of bodies) {
        const payload = route.url.endsWith('/roles') ? { role: 'support', ...(body as object) } : body;
        expectProblem(await adminCall(t, admin.accessToken, route.method, route.url, payload), 400, 'invalid_request');
      }
    }
    expect(await stateOf(target.userId)).toEqual(before);
    // 500 characters (code points) is the limit, inclusive.
    expect((await adminCall(t, admin.accessToken, 'POST', `/v1/admin/users/${target.userId}/end-sessions`, { reason: '😀'.repeat(500) })).statusCode).toBe(200);
  });

  it('AD-08: an unknown user id → 404 not_found on every route', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    expectProblem(await adminCall(t, admin.accessToken, 'GET', '/v1/admin/users/usr_nobodyhasthisid'), 404, 'not_found');
    for (const route of writeRoutes('usr_nobodyhasthisid')) {
      expectProblem(await adminCall(t, admin.accessToken, route.method, route.url, route.body), 404, 'not_found');
    }
  });
});

describe('hostile search parameters (AD-09)', () => {
  it('AD-09: huge q, bad cursors, wrong types, repeated or unknown parameters → 400 invalid_request, never a 500', async () => {
    const support = await signUpWithRoles(t, ['support']);
    const forged = (text: string) => Buffer.from(text).toString('base64url');
    const queries = [
      `q=${'a'.repeat(255)}`,
      `q=${'%F0%9F%98%80'.repeat(300)}`,
      `email=${'b'.repeat(300)}`,
      'phone_suffix=abc',
      'phone_suffix=1234567890123456',
      `phone_suffix=${'1'.repeat(40)}`,
      'limit=0',
      'limit=101',
      'limit=-1',
      'limit=1e2',
      'limit=ten',
      'locked=yes',
      'locked=1',
      'has_factor=password',
      'created_after=yesterday',
      'created_after=99999999999999999',
      'created_before=2024-13-45T99:99:99Z',
      'last_sign_in_after=-5',
      'after=!!!',
      `after=${'A'.repeat(400)}`,
      `after=${forged('id.0.usr_x')}`,
      `after=${forged("id..usr_x' or 1=1--")}`,
      `after=${forged('created_at.1.usr_abc')}`,
      `after=${forged('last_sign_in_at.1.usr_abc')}&q=abc`,
      // Prefix walks: a key that is empty, not base64url, not canonical, or of another search.
      `after=${forged('username..usr_abc')}&q=abc`,
      `after=${forged('email.!!.usr_abc')}&q=abc`,
      `after=${forged('email.YWJj=.usr_abc')}&q=abc`,
      `after=${forged('email.YWJjZ.usr_abc')}&q=abc`,
      `after=${forged(`username.${forged('abcd')}.usr_abc`)}`,
      `after=${forged(`username.${forged('abcd')}.usr_abc`)}&email=abc`,
      `after=${forged(`email.${forged("abc' or 1=1--")}.usr_abc`)}&phone_suffix=12`,
      `after=${forged(`username.${'A'.repeat(1500)}.usr_abc`)}&q=abc`,
      'q=a&q=b',
      'q=a%00b',
      'email=%00',
      'after=',
    ];
    for (const query of queries) {
      const response = await adminCall(t, support.accessToken, 'GET', `/v1/admin/users?${query}`);
      expect(response.statusCode, `${query}: ${response.body}`).toBe(400);
      expect(response.json().code).toBe('invalid_request');
    }
    // Parameters the API does not have are dropped like unknown body fields everywhere in the API: no effect, no error.
    for (const query of ['q[]=a', 'nope=1', '__proto__[x]=1', 'constructor=1']) {
      expect((await adminCall(t, support.accessToken, 'GET', `/v1/admin/users?${query}`)).statusCode, query).toBe(200);
    }
    // A query string beyond the server's URL limit is refused before the route runs, still never a 500.
    const huge = await adminCall(t, support.accessToken, 'GET', `/v1/admin/users?q=${'z'.repeat(100_000)}`);
    expect(huge.statusCode).toBeGreaterThanOrEqual(400);
    expect(huge.statusCode).toBeLessThan(500);
    // LIKE wildcards and quotes are text, not patterns.
    const target = await signUp(t);
    for (const q of ['%', '_', '\\', "'", '%25%25', `${target.username.slice(0, 3)}%`]) {
      const response = await adminCall(t, support.accessToken, 'GET', `/v1/admin/users?q=${encodeURIComponent(q)}`);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().users.map((user: { id: string }) => user.id)).not.toContain(target.userId);
    }
  });
});

describe('no secret out (AD-02)', () => {
  it('AD-02: no admin answer — search, a user, every action — holds a TOTP seed, a recovery code, a password or a hash', async () => {
    const superadmin = await signUpWithRoles(t, ['superadmin']);
    const target = await signUpWithRoles(t, ['support']);
    const secrets = await secretsOf(t, target);
    const responses = [
      await adminCall(t, superadmin.accessToken, 'GET', `/v1/admin/users?q=${target.username}`),
      await adminCall(t, superadmin.accessToken, 'GET', `/v1/admin/users/${target.userId}`),
      ...(await Promise.all(writeRoutes(target.userId).slice(0, 3).map((route) => adminCall(t, superadmin.accessToken, route.method, route.url, route.body)))),
    ];
    for (const response of responses) {
      expect(response.statusCode, response.body).toBeLessThan(500);
      for (const secret of secrets) expect(response.body).not.toContain(secret);
      expect(response.body).not.toMatch(/\$argon2|secret_ciphertext|code_hash|password_hash|otpauth:/);
    }
  });
});
