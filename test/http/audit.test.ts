// The audit trail — every decision recorded without secrets, the person's own
// events paginated at GET /v1/me/events, and retention.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneAuditTrail } from '../../src/flows/audit/audit-caps.js';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, signUp, totpCode } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold({ env: { TWOFOLD_AUDIT_RETENTION_DAYS: '30' } });
});
afterAll(async () => t.close());

describe('the audit trail', () => {
  it('LOG-01: records the decisions of a sign-in story, with no secret in any row', async () => {
    const user = await signUp(t);
    await postJson(t.app, '/v1/login', { username: user.username, password: 'not the password!' });
    t.clock.advanceSeconds(30);
    const code = totpCode(t, user.secret);
    await postJson(t.app, '/v1/mfa/verify', { code }, bearer(await loginForMfaToken(t, user)));
    await postJson(t.app, '/v1/mfa/verify', { code }, bearer(await loginForMfaToken(t, user)));
    await postJson(t.app, '/v1/mfa/verify', { recovery_code: user.recoveryCodes[0] }, bearer(await loginForMfaToken(t, user)));
    const refreshed = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json();
    await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken }); // within the reuse grace
    t.clock.advanceSeconds(10);
    await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken }); // reuse
    await t.ctx.auditTrail.flush();
    const rows = await t.ctx.db.selectFrom('security_events').selectAll().where('user_id', '=', user.userId).execute();
    const types = new Set(rows.map((row) => row.type));
    for (const type of ['user.registered', 'factor.enrolled', 'factor.activated', 'recovery_codes.issued', 'login.password_failed', 'login.password_verified', 'login.completed', 'mfa.replay_rejected', 'recovery_code.used', 'token.refreshed', 'token.refresh_grace_replay', 'token.refresh_reuse_detected']) {
      expect(types.has(type), type).toBe(true);
    }
    const dump = JSON.stringify(rows);
    for (const secret of [user.password, user.secret, code, user.refreshToken, user.accessToken, refreshed.refresh_token, refreshed.access_token, ...user.recoveryCodes]) expect(dump).not.toContain(secret);
    expect(rows.every((row) => typeof row.created_at === 'number')).toBe(true);
  });

  it('GET /v1/me/events pages backwards with `before`', async () => {
    const user = await signUp(t);
    for (let i = 0; i < 4; i += 1) await postJson(t.app, '/v1/login', { username: user.username, password: `wrong password ${i}` });
    const first = (await getJson(t.app, '/v1/me/events?limit=3', bearer(user.accessToken))).json();
    expect(first.events).toHaveLength(3);
    expect(first.next_before).toBe(first.events[2].id);
    const second = (await getJson(t.app, `/v1/me/events?limit=3&before=${first.next_before}`, bearer(user.accessToken))).json();
    expect(second.events.length).toBeGreaterThan(0);
    const ids = [...first.events, ...second.events].map((event: { id: string }) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort().reverse()).toEqual(ids);
    expectProblem(await getJson(t.app, '/v1/me/events?before=not-an-id', bearer(user.accessToken)), 400, 'invalid_request');
  });

  it('retention: events older than TWOFOLD_AUDIT_RETENTION_DAYS are pruned', async () => {
    const user = await signUp(t);
    await t.ctx.auditTrail.flush();
    const count = async () => (await t.ctx.db.selectFrom('security_events').select('id').where('user_id', '=', user.userId).execute()).length;
    const before = await count();
    expect(before).toBeGreaterThan(0);
    t.clock.advanceSeconds(29 * 86400);
    await pruneAuditTrail(t.ctx);
    expect(await count()).toBe(before);
    t.clock.advanceSeconds(2 * 86400);
    expect(await pruneAuditTrail(t.ctx)).toBeGreaterThanOrEqual(before);
    expect(await count()).toBe(0);
  });
});
