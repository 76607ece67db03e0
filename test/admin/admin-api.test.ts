// The admin API through HTTP: roles from the CLI, the user search and a user's page,
// and each action — with its audit event naming the admin, the target and the reason (AD-01),
// never a secret in any answer (AD-02), and the lost-phone reset end to end. Runs on SQLite and
// PostgreSQL (the "postgres" project).
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, postJson, registerUser, totpCode, uniqueUsername, type SignedUp } from '../helpers/flow.js';
import { lastResetCode, lastSentCode, outboxMessages, verifyAddress } from '../helpers/outbox.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';
import { adminCall, secretsOf, signUpWithRoles } from './admin-helpers.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold({ env: { TWOFOLD_ADMIN_DELETE_GRACE_DAYS: '7' } });
});
afterAll(async () => t.close());

const reason = 'ticket 4711: lost phone, identity checked by video call';

/** A person with a verified e-mail address, a TOTP factor and an SMS factor, signed in. */
async function signUpReachable(): Promise<SignedUp & { email: string; phone: string }> {
  const email = `${uniqueUsername('mail')}@example.com`;
  const phone = `+4930${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const registered = await registerUser(t, { email, phone });
  await verifyAddress(t, email);
  const confirmed = await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  const tokens = confirmed.json();
  const sms = await postJson(t.app, '/v1/factors', { type: 'sms', phone }, bearer(tokens.access_token));
  expect(sms.statusCode, sms.body).toBe(201);
  const activated = await postJson(t.app, `/v1/factors/${sms.json().factor_id}/verify`, { code: await lastSentCode(t, phone) }, bearer(tokens.access_token));
  expect(activated.statusCode, activated.body).toBe(200);
  return { ...registered, email, phone, accessToken: tokens.access_token, refreshToken: tokens.refresh_token, recoveryCodes: tokens.recovery_codes };
}

async function lastEvent(type: string, userId: string): Promise<{ details: Record<string, unknown> }> {
  await t.ctx.auditTrail.flush();
  const rows = await t.ctx.db.selectFrom('security_events').select(['details', 'created_at']).where('type', '=', type).where('user_id', '=', userId).execute();
  // Rows of one clock tick have no order of their own: the written order is the array's.
  const row = rows.at(-1);
  if (row === undefined) throw new Error(`no ${type} event for ${userId}`);
  return { details: JSON.parse(row.details ?? '{}') as Record<string, unknown> };
}

describe('roles from the command line (AD-01)', () => {
  it('AD-01: grant-role gives support read access and admin write access; revoke-role takes it back', async () => {
    const { grantRoleFromCli, revokeRoleFromCli } = await import('../../src/admin/roles.js');
    const person = await signUpWithRoles(t, []);
    expectProblem(await adminCall(t, person.accessToken, 'GET', '/v1/admin/users'), 403, 'forbidden');
    const granted = await grantRoleFromCli(t.ctx, person.username, 'support', 'cli:operator');
    expect(granted.changed).toBe(true);
    expect((await grantRoleFromCli(t.ctx, person.username, 'support', 'cli:operator')).changed).toBe(false);
    expect((await adminCall(t, person.accessToken, 'GET', '/v1/admin/users')).statusCode).toBe(200);
    expect((await revokeRoleFromCli(t.ctx, person.userId, 'support', 'cli:operator')).changed).toBe(true);
    expectProblem(await adminCall(t, person.accessToken, 'GET', '/v1/admin/users'), 403, 'forbidden');
    expect((await lastEvent('admin.role_revoked', person.userId)).details).toMatchObject({ operator: 'cli:operator', role: 'support', via: 'cli' });
  });
});

describe('search (GET /v1/admin/users)', () => {
  it('finds by username prefix, e-mail prefix, phone suffix, creation and last sign-in time, locked and factor; pages with a cursor', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const prefix = uniqueUsername('srch').slice(0, 12);
    const created: string[] = [];
    const from = t.clock.now();
    for (let index = 0; index < 5; index += 1) {
      const person = await registerUser(t, { username: `${prefix}${index}`, email: `${prefix}-mail${index}@Example.com`, phone: `+1555${prefix.length}${String(index).padStart(6, '0')}` });
      created.push(person.userId);
      t.clock.advanceSeconds(1);
    }
    const search = async (query: string) => {
      const response = await adminCall(t, admin.accessToken, 'GET', `/v1/admin/users?${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { users: { id: string; username: string; factor_types: string[]; locked: boolean }[]; next: string | null };
    };
    expect((await search(`q=${prefix.toUpperCase()}`)).users.map((user) => user.id).sort()).toEqual([...created].sort());
    expect((await search(`email=${prefix}-MAIL3`)).users.map((user) => user.id)).toEqual([created[3]]);
    expect((await search(`q=${prefix}-mail4@example`)).users.map((user) => user.id)).toEqual([created[4]]);
    expect((await search(`phone_suffix=${String(2).padStart(6, '0')}&q=${prefix}`)).users.map((user) => user.id)).toEqual([created[2]]);
    const range = await search(`created_after=${from + 1000}&created_before=${new Date(from + 3000).toISOString()}&q=${prefix}`);
    expect(range.users.map((user) => user.id)).toEqual([created[1], created[2]]);
    // Registered only: no active factor yet.
    expect((await search(`q=${prefix}&has_factor=none`)).users).toHaveLength(5);
    expect((await search(`q=${prefix}&has_factor=totp`)).users).toHaveLength(0);
    // Keyset pages: every user once, in the prefix index's (username) order, then no next page.
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof search>> = await search(`q=${prefix}&limit=2${after === null ? '' : `&after=${after}`}`);
      seen.push(...page.users.map((user) => user.id));
      after = page.next;
    } while (after !== null);
    expect(seen).toEqual(created);
    // Locked, and the last sign-in time of someone who signed in.
    await adminCall(t, admin.accessToken, 'POST', `/v1/admin/users/${created[0]}/lock`, { reason });
    expect((await search(`q=${prefix}&locked=true`)).users.map((user) => user.id)).toEqual([created[0]]);
    expect((await search(`q=${prefix}&locked=false`)).users).toHaveLength(4);
    const signedIn = await search(`last_sign_in_after=${t.clock.now() - 60_000}&q=${admin.username}`);
    expect(signedIn.users.map((user) => user.id)).toEqual([admin.userId]);
    expect(signedIn.users[0]?.factor_types).toEqual(['totp']);
  });
});

describe('a prefix search walks usernames, then e-mail addresses', () => {
  it('pages through usernames with the prefix (username order), then the other people whose e-mail has it (e-mail order), each once, the cursor crossing from one walk to the other', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const prefix = uniqueUsername('walk').slice(0, 12);
    // Username matches (also by e-mail for the first: still listed once), then e-mail-only matches
    // whose addresses sort b < c < d whatever their creation order or case.
    const byName = [await registerUser(t, { username: `${prefix}b`, email: `${prefix}a@example.com` }), await registerUser(t, { username: `${prefix}a` })];
    const byMail = [
      await registerUser(t, { username: uniqueUsername('zz'), email: `${prefix.toUpperCase()}D@example.com` }),
      await registerUser(t, { username: uniqueUsername('yy'), email: `${prefix}b@example.com` }),
      await registerUser(t, { username: uniqueUsername('xx'), email: `${prefix}c@example.com` }),
    ];
    const expected = [byName[1], byName[0], byMail[1], byMail[2], byMail[0]].map((person) => person?.userId);
    for (const limit of [1, 2, 3, 50]) {
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const response = await adminCall(t, admin.accessToken, 'GET', `/v1/admin/users?q=${prefix}&limit=${limit}${after === null ? '' : `&after=${after}`}`);
        expect(response.statusCode, response.body).toBe(200);
        const page = response.json() as { users: { id: string }[]; next: string | null };
        seen.push(...page.users.map((user) => user.id));
        after = page.next;
      } while (after !== null);
      expect(seen, `limit ${limit}`).toEqual(expected);
    }
    // The export walks the same way.
    const exported = await adminCall(t, admin.accessToken, 'POST', '/v1/admin/users/export', { reason, q: prefix });
    expect(exported.statusCode, exported.body).toBe(200);
    expect(exported.body.trim().split('\n').slice(1).map((line) => line.split(',')[0])).toEqual(expected);
  });
});

describe("a user's page (GET /v1/admin/users/{id})", () => {
  it('AD-02: shows factors, sessions, remembered browsers and events — and no secret anywhere', async () => {
    const support = await signUpWithRoles(t, ['support']);
    const person = await signUpReachable();
    const response = await adminCall(t, support.accessToken, 'GET', `/v1/admin/users/${person.userId}`);
    expect(response.statusCode, response.body).toBe(200);
    const details = response.json();
    expect(details).toMatchObject({ id: person.userId, username: person.username, email_verified: true, enroll_required: false, recovery_codes_remaining: 10, has_password: true });
    expect(details.factors.map((factor: { type: string }) => factor.type).sort()).toEqual(['sms', 'totp']);
    expect(details.sessions).toHaveLength(1);
    expect(details.recent_events.map((event: { type: string }) => event.type)).toContain('user.registered');
    for (const secret of await secretsOf(t, person)) expect(response.body).not.toContain(secret);
    expect(response.body).not.toMatch(/secret|password_hash|code_hash|ciphertext|otpauth/i);
  });

  it('an unknown or malformed id is 404, never a 500', async () => {
    const support = await signUpWithRoles(t, ['support']);
    for (const id of ['usr_doesnotexist', 'nobody', '%27%20or%201%3D1--', 'usr_'.padEnd(90, 'x')]) {
      expectProblem(await adminCall(t, support.accessToken, 'GET', `/v1/admin/users/${id}`), 404, 'not_found');
    }
    // Longer than the router takes: refused as a malformed URL before any route runs.
    expectProblem(await adminCall(t, support.accessToken, 'GET', `/v1/admin/users/${'usr_'.padEnd(300, 'x')}`), 400, 'invalid_request');
  });
});

describe('reset second factors (the lost phone)', () => {
  it('AD-02: removes factors and codes, ends every session and refresh token, notifies e-mail and SMS, and the next sign-in needs the password then enrolls', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const person = await signUpReachable();
    const response = await adminCall(t, admin.accessToken, 'POST', `/v1/admin/users/${person.userId}/reset-second-factors`, { reason });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ enroll_required: true, factors: [], sessions: [], recovery_codes_remaining: 0 });
    for (const secret of await secretsOf(t, person)) expect(response.body).not.toContain(secret);
    // Every token of the person is dead.
    expectProblem(await getJson(t.app, '/v1/me', bearer(person.accessToken)), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/token/refresh', { refresh_token: person.refreshToken }), 401, 'invalid_token');
    // Told on every channel: the verified address and the SMS factor's phone.
    await t.ctx.background.flush();
    expect((await outboxMessages(t, person.email)).some((message) => message.purpose === 'notice' && /administrator removed your second factors/i.test(message.body))).toBe(true);
    expect((await outboxMessages(t, person.phone)).some((message) => message.purpose === 'notice' && /administrator removed your second factors/i.test(message.body))).toBe(true);
    // The password is still needed; then the login asks for a new factor.
    expectProblem(await postJson(t.app, '/v1/login', { username: person.username, password: 'not the password at all' }), 401, 'invalid_credentials');
    const login = await postJson(t.app, '/v1/login', { username: person.username, password: person.password });
    expect(login.statusCode, login.body).toBe(200);
    expect(login.json()).toMatchObject({ next: 'enroll', factors: [] });
    // AD-01: one event naming the admin, the target and the reason.
    const event = await lastEvent('admin.factors_reset', person.userId);
    expect(event.details).toMatchObject({ admin_id: admin.userId, admin_username: admin.username, reason, operator: `admin:${admin.username}` });
    expect(event.details['admin_session_id']).toBe(decodeJwt(admin.accessToken)['sid']);
  });
});

describe('lock, end sessions, force a password reset', () => {
  it('AD-01: a lock ends the sessions and refuses sign-in until unlocked; each is an event with the reason', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const person = await signUpReachable();
    const locked = await adminCall(t, admin.accessToken, 'POST', `/v1/admin/users/${person.userId}/lock`, { reason: '  suspicious sign-ins  ' });
    expect(locked.statusCode, locked.body).toBe(200);
    expect(locked.json()).toMatchObject({ locked: true, sessions: [] });
    expectProblem(await getJson(t.app, '/v1/me', bearer(person.accessToken)), 401, 'invalid_token');
    // The locked answer of a throttled account (LG-01).
    expectProblem(await postJson(t.app, '/v1/login', { username: person.username, password: person.password }), 429, 'too_many_attempts');
    expect((await lastEvent('admin.account_locked', person.userId)).details).toMatchObject({ admin_id: admin.userId, reason: 'suspicious sign-ins', sessions_ended: 1 });
    await t.ctx.background.flush();
    expect((await outboxMessages(t, person.email)).some((message) => message.purpose === 'notice' && /administrator locked your account/.test(message.body))).toBe(true);
    const unlocked = await adminCall(t, admin.accessToken, 'POST', `/v1/admin/users/${person.userId}/unlock`, { reason: 'owner confirmed' });
    expect(unlocked.json()).toMatchObject({ locked: false });
    expect((await postJson(t.app, '/v1/login', { username: person.username, password: person.password })).statusCode).toBe(200);
    expect((await lastEvent('admin.account_unlocked', person.userId)).details).toMatchObject({ admin_id: admin.userId, reason: 'owner confirmed', was_locked: true });
  });

  it('end-sessions ends every session and refresh token; the account still signs in', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const person = await signUpReachable();
    const response = await adminCall(t, admin.accessToken, 'POST', `/v1/admin/users/${person.userId}/end-sessions`, { reason });
    expect(response.statusCode, response.body).toBe(200);
    expectProblem(await getJson(t.app, '/v1/me', bearer(person.accessToken)), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/token/refresh', { refresh_token: person.refreshToken }), 401, 'invalid_token');
    expect((await postJson(t.app, '/v1/login', { username: person.username, password: person.password })).json().next).toBe('verify');
    expect((await lastEvent('admin.sessions_ended', person.userId)).details).toMatchObject({ admin_id: admin.userId, reason, sessions_ended: 1 });
  });

  it('force-password-reset: the password stops working, a reset code goes out, the new password signs in (second factor still asked)', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const person = await signUpReachable();
    const response = await adminCall(t, admin.accessToken, 'POST', `/v1/admin/users/${person.userId}/force-password-reset`, { reason });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ password_reset_required: true, sessions: [] });
    expectProblem(await getJson(t.app, '/v1/me', bearer(person.accessToken)), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/login', { username: person.username, password: person.password }), 401, 'invalid_credentials');
    const code = await lastResetCode(t, person.email);
    const reset = await postJson(t.app, '/v1/password/reset', { username: person.username, code, new_password: 'a different long passphrase' });
    expect(reset.statusCode, reset.body).toBe(204);
    const login = await postJson(t.app, '/v1/login', { username: person.username, password: 'a different long passphrase' });
    expect(login.statusCode, login.body).toBe(200);
    expect(login.json().next).toBe('verify');
    expect((await lastEvent('admin.password_reset_forced', person.userId)).details).toMatchObject({ admin_id: admin.userId, reason, reset_code_requested: true });
  });
});

describe('deletion with a grace period', () => {
  it('disables now, can be cancelled, and the upkeep deletes after TWOFOLD_ADMIN_DELETE_GRACE_DAYS', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const person = await signUpReachable();
    const deleted = await adminCall(t, admin.accessToken, 'DELETE', `/v1/admin/users/${person.userId}`, { reason });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect(deleted.json()).toMatchObject({ disabled: true, delete_after: new Date(t.clock.now() + 7 * 86_400_000).toISOString() });
    expectProblem(await getJson(t.app, '/v1/me', bearer(person.accessToken)), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/login', { username: person.username, password: person.password }), 401, 'invalid_credentials');
    await t.ctx.background.flush();
    expect((await outboxMessages(t, person.email)).some((message) => message.purpose === 'notice' && /scheduled your account for deletion/.test(message.body))).toBe(true);
    // Asked twice: refused, the first date stands.
    expectProblem(await adminCall(t, admin.accessToken, 'DELETE', `/v1/admin/users/${person.userId}`, { reason }), 400, 'invalid_request');
    const cancelled = await adminCall(t, admin.accessToken, 'POST', `/v1/admin/users/${person.userId}/cancel-deletion`, { reason: 'deleted the wrong account' });
    expect(cancelled.json()).toMatchObject({ disabled: false, delete_after: null });
    expect((await postJson(t.app, '/v1/login', { username: person.username, password: person.password })).statusCode).toBe(200);
    expect((await lastEvent('admin.deletion_cancelled', person.userId)).details).toMatchObject({ admin_id: admin.userId, reason: 'deleted the wrong account' });

    const fresh = await signUpWithRoles(t, ['admin']);
    expect((await adminCall(t, fresh.accessToken, 'DELETE', `/v1/admin/users/${person.userId}`, { reason })).statusCode).toBe(200);
    t.clock.advanceSeconds(6 * 86_400);
    await t.twofold.maintenance.runOnce();
    expect(await t.ctx.db.selectFrom('users').select('id').where('id', '=', person.userId).executeTakeFirst()).toBeDefined();
    t.clock.advanceSeconds(86_400 + 1);
    expect((await t.twofold.maintenance.runOnce()).accountsDeleted).toBeGreaterThanOrEqual(1);
    expect(await t.ctx.db.selectFrom('users').select('id').where('id', '=', person.userId).executeTakeFirst()).toBeUndefined();
    expect(await t.ctx.db.selectFrom('factors').select('id').where('user_id', '=', person.userId).executeTakeFirst()).toBeUndefined();
    expect((await lastEvent('admin.deletion_scheduled', person.userId)).details).toMatchObject({ admin_id: fresh.userId, reason });
  });
});

describe('roles through the API', () => {
  it('an admin grants and revokes support; only a superadmin grants admin; superadmin never through the API', async () => {
    const admin = await signUpWithRoles(t, ['admin']);
    const superadmin = await signUpWithRoles(t, ['superadmin']);
    const person = await signUpWithRoles(t, []);
    const grant = (token: string, role: string) => adminCall(t, token, 'POST', `/v1/admin/users/${person.userId}/roles`, { role, reason });
    const granted = await grant(admin.accessToken, 'support');
    expect(granted.statusCode, granted.body).toBe(200);
    expect(granted.json().roles).toEqual(['support']);
    expect((await lastEvent('admin.role_granted', person.userId)).details).toMatchObject({ admin_id: admin.userId, role: 'support', reason, via: 'api' });
    expectProblem(await grant(admin.accessToken, 'admin'), 403, 'forbidden');
    expectProblem(await grant(superadmin.accessToken, 'superadmin'), 403, 'forbidden');
    expectProblem(await grant(superadmin.accessToken, 'root'), 400, 'invalid_request');
    expect((await grant(superadmin.accessToken, 'admin')).json().roles).toEqual(['admin', 'support']);
    const revoked = await adminCall(t, superadmin.accessToken, 'DELETE', `/v1/admin/users/${person.userId}/roles/admin`, { reason });
    expect(revoked.json().roles).toEqual(['support']);
  });
});
