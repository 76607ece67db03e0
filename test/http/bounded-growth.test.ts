// Cost that grows with data: a user's sessions are listed a
// page at a time and only while live, timed-out sessions are retired in the background (and their
// tokens refused), a user's signed-in sessions are capped, and the audit trail can be neither
// buried nor grown without bound by others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateId } from '../../src/core/crypto/random.js';
import type { NewSession } from '../../src/store/database.js';
import { bearer, expectProblem, getJson, postJson, signIn, signUp, type SignedUp } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold({ env: { TWOFOLD_SESSIONS_PER_USER: '3', TWOFOLD_AUDIT_EVENTS_PER_USER: '50' } });
});
afterAll(async () => t.close());

/** n signed-in sessions of the user straight into the table, as n sign-ins would leave them. */
async function insertSignedInSessions(userId: string, count: number, shape: (index: number) => Partial<NewSession> = () => ({})): Promise<void> {
  const now = t.clock.now();
  const rows: NewSession[] = Array.from({ length: count }, (_, index) => ({
    id: generateId('ses'),
    user_id: userId,
    state: 'active',
    mfa_jti: null,
    amr: '["pwd","otp","mfa"]',
    acr: 'aal2',
    auth_time: now - 1000 - index,
    client_id: 'twofold',
    ip: '203.0.113.9',
    user_agent: 'bench',
    created_at: now - 1000 - index,
    expires_at: now + 3_600_000,
    last_active_at: now - 1000 - index,
    revoked_at: null,
    revoke_reason: null,
    credentials_changed_at: null,
    ...shape(index),
  }));
  for (let start = 0; start < rows.length; start += 500) await t.ctx.db.insertInto('sessions').values(rows.slice(start, start + 500)).execute();
}

async function eventRows(userId: string) {
  await t.ctx.auditTrail.flush();
  return t.ctx.db.selectFrom('security_events').selectAll().where('user_id', '=', userId).orderBy('id').execute();
}

describe('sessions of one user', () => {
  it('SS-07: 10,000 sessions, 4,000 of them timed out — GET /v1/sessions pages 100 at a time through the 6,000 live ones, each once, newest first', async () => {
    const user = await signUp(t);
    const idleMs = t.config.sessions.idleTimeoutSeconds * 1000;
    await insertSignedInSessions(user.userId, 10_000, (index) =>
      index % 5 === 0 ? { last_active_at: t.clock.now() - idleMs - 1 } : index % 5 === 1 ? { expires_at: t.clock.now() } : {},
    );
    const seen: string[] = [];
    let before: string | null = null;
    for (let pages = 0; pages < 100; pages += 1) {
      const page = await getJson(t.app, `/v1/sessions?limit=100${before === null ? '' : `&before=${encodeURIComponent(before)}`}`, bearer(user.accessToken));
      expect(page.statusCode, page.body).toBe(200);
      const body = page.json();
      expect(body.sessions.length).toBeLessThanOrEqual(100);
      seen.push(...body.sessions.map((session: { id: string }) => session.id));
      before = body.next_before;
      if (before === null) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    // 10,000 inserted less 4,000 timed out, plus the session of the sign-up.
    expect(seen.length).toBe(6_001);
    const timedOut = await t.ctx.db.selectFrom('sessions').select('id').where('user_id', '=', user.userId).where('last_active_at', '<=', t.clock.now() - idleMs).execute();
    expect(timedOut.length).toBe(2_000);
    for (const row of timedOut.slice(0, 50)) expect(seen).not.toContain(row.id);
    const first = (await getJson(t.app, '/v1/sessions', bearer(user.accessToken))).json();
    expect(first.sessions).toHaveLength(50);
    expect(first.sessions[0].current).toBe(true);
  });

  it('SS-07: a `before` that no page gave out is a clear 400, never a 500', async () => {
    const user = await signUp(t);
    for (const before of ['x', '12.evt_1', `${'9'.repeat(16)}.ses_a`]) expectProblem(await getJson(t.app, `/v1/sessions?before=${before}`, bearer(user.accessToken)), 400, 'invalid_request');
  });

  it('SS-03: timed-out sessions are retired by the background upkeep, in batches, at the test clock — and a token of a retired session is refused', async () => {
    const user = await signUp(t);
    const other = await signIn(t, user);
    await insertSignedInSessions(user.userId, 1_200);
    t.clock.advanceSeconds(t.config.sessions.idleTimeoutSeconds + 1);
    const report = await t.twofold.maintenance.runOnce();
    expect(report.sessionsRetired).toBeGreaterThanOrEqual(1_202);
    const left = await t.ctx.db.selectFrom('sessions').select(['state', 'revoke_reason']).where('user_id', '=', user.userId).execute();
    expect(left.every((row) => row.state === 'revoked')).toBe(true);
    expect(new Set(left.map((row) => row.revoke_reason))).toEqual(new Set(['idle_timeout']));
    // Refused for the session's state, whatever the token's own expiry says.
    expectProblem(await getJson(t.app, '/v1/me', bearer(other.accessToken)), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/token/refresh', { refresh_token: other.refreshToken }), 401, 'invalid_token');
    // Long after, the ended sessions and their refresh tokens are deleted.
    t.clock.advanceSeconds(8 * 86_400);
    const later = await t.twofold.maintenance.runOnce();
    expect(later.endedSessionsDeleted).toBeGreaterThanOrEqual(1_202);
    expect(await t.ctx.db.selectFrom('sessions').select('id').where('user_id', '=', user.userId).execute()).toEqual([]);
  });

  it('SS-03: a session past its absolute deadline right after a refresh is retired and announced: its live access token is refused at once', async () => {
    const user = await signUp(t);
    const session = await t.ctx.db.selectFrom('sessions').select('id').where('user_id', '=', user.userId).where('state', '=', 'active').executeTakeFirstOrThrow();
    await t.ctx.db.updateTable('sessions').set({ expires_at: t.clock.now() + 1000 }).where('id', '=', session.id).execute();
    t.clock.advanceSeconds(2);
    await t.twofold.maintenance.runOnce();
    expect(t.ctx.revokedSessions.has(session.id, t.clock.now())).toBe(true);
    expectProblem(await getJson(t.app, '/v1/me', bearer(user.accessToken)), 401, 'invalid_token');
  });

  it('SS-07: with TWOFOLD_SESSIONS_PER_USER=3, a fourth sign-in ends the oldest live session, with a security event, and its tokens die', async () => {
    const user: SignedUp = await signUp(t);
    const second = await signIn(t, user);
    const third = await signIn(t, user);
    const oldest = await t.ctx.db.selectFrom('sessions').select('id').where('user_id', '=', user.userId).where('state', '=', 'active').orderBy('created_at').executeTakeFirstOrThrow();
    const fourth = await signIn(t, user);
    const live = await t.ctx.db.selectFrom('sessions').select('id').where('user_id', '=', user.userId).where('state', '=', 'active').execute();
    expect(live).toHaveLength(3);
    expect(live.map((row) => row.id)).not.toContain(oldest.id);
    const ended = await t.ctx.db.selectFrom('sessions').select('revoke_reason').where('id', '=', oldest.id).executeTakeFirstOrThrow();
    expect(ended.revoke_reason).toBe('session_limit');
    expect(t.events.filter((event) => event.type === 'session.revoked' && event.sessionId === oldest.id)).toEqual([
      expect.objectContaining({ userId: user.userId, details: expect.objectContaining({ reason: 'session_limit', limit: 3 }) }),
    ]);
    expectProblem(await getJson(t.app, '/v1/me', bearer(user.accessToken)), 401, 'invalid_token');
    for (const tokens of [second, third, fourth]) expect((await getJson(t.app, '/v1/me', bearer(tokens.accessToken))).statusCode).toBe(200);
  });

  it('SS-06: sign out everywhere ends 2,000 sessions in batches and reports them', async () => {
    const user = await signUp(t);
    await insertSignedInSessions(user.userId, 2_000);
    const response = await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(user.accessToken) });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().sessions_ended).toBe(2_000);
    const live = await t.ctx.db.selectFrom('sessions').select('id').where('user_id', '=', user.userId).where('state', '=', 'active').execute();
    expect(live).toHaveLength(1);
  });
});

describe('the audit trail under a flood', () => {
  it('LOG-01: 300 identical wrong passwords from one address in a burst are a handful of rows whose counts add up to every refusal', async () => {
    const user = await signUp(t);
    const answers = await Promise.all(Array.from({ length: 300 }, () => postJson(t.app, '/v1/login', { username: user.username, password: 'wrong password entirely' }, { 'x-forwarded-for': '198.51.100.7' })));
    // Those beyond the hash queue are told 503 before any password is checked (and write nothing).
    const refused = answers.filter((answer) => answer.statusCode === 401).length;
    expect(refused).toBeGreaterThanOrEqual(50);
    expect(refused + answers.filter((answer) => answer.statusCode === 503).length).toBe(300);
    const failed = (await eventRows(user.userId)).filter((row) => row.type === 'login.password_failed');
    expect(failed.length).toBeLessThanOrEqual(5);
    expect(failed.reduce((sum, row) => sum + row.repeat_count, 0)).toBe(refused);
    const listed = (await getJson(t.app, '/v1/me/events?limit=100', bearer(user.accessToken))).json();
    const entry = listed.events.find((event: { type: string }) => event.type === 'login.password_failed');
    expect(entry.count).toBeGreaterThan(1);
  });

  it('LOG-01: coalescing is reusable — events recorded with `coalesce: true` merge; other events never do', async () => {
    const user = await signUp(t);
    for (let index = 0; index < 40; index += 1) {
      t.ctx.events.record({ type: 'password.reset_requested', userId: user.userId, ip: '192.0.2.1', coalesce: true, details: { delivered: false } });
      t.ctx.events.record({ type: 'factor.renamed', userId: user.userId, ip: '192.0.2.1' });
    }
    const rows = await eventRows(user.userId);
    expect(rows.filter((row) => row.type === 'password.reset_requested').map((row) => row.repeat_count)).toEqual([40]);
    expect(rows.filter((row) => row.type === 'factor.renamed')).toHaveLength(40);
  });

  it("LOG-01: a flood others write about a user (5,000 failures from 5,000 addresses) is capped, and never evicts the user's own sign-ins, nor a lock or a password change", async () => {
    const user = await signUp(t);
    for (let index = 0; index < 3; index += 1) await signIn(t, user);
    t.ctx.events.record({ type: 'password.changed', userId: user.userId, details: { sessions_ended: 0 } });
    const ownBefore = (await eventRows(user.userId)).filter((row) => row.cap_group !== 'others').map((row) => row.id);
    for (let index = 0; index < 5_000; index += 1) {
      t.ctx.events.record({ type: 'login.password_failed', userId: user.userId, ip: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`, details: { reason: 'wrong_password' } });
    }
    await t.twofold.maintenance.runOnce();
    const rows = await eventRows(user.userId);
    const others = rows.filter((row) => row.cap_group === 'others');
    expect(others).toHaveLength(50);
    // The newest 50 of the flood are the ones kept.
    expect(others.at(-1)?.ip).toBe('10.0.19.135');
    expect(rows.filter((row) => row.cap_group !== 'others').map((row) => row.id)).toEqual(ownBefore);
    expect(rows.filter((row) => row.type === 'login.completed').length).toBeGreaterThanOrEqual(4);
    expect(rows.some((row) => row.type === 'password.changed' && row.cap_group === 'kept')).toBe(true);
  });

  it("LOG-01: the user's own events are capped too, apart from others' and from routine refreshes", async () => {
    const user = await signUp(t);
    for (let index = 0; index < 120; index += 1) {
      t.ctx.events.record({ type: 'factor.renamed', userId: user.userId });
      t.ctx.events.record({ type: 'token.refreshed', userId: user.userId, sessionId: `ses_${index}` });
    }
    await t.twofold.maintenance.runOnce();
    const rows = await eventRows(user.userId);
    expect(rows.filter((row) => row.cap_group === 'own')).toHaveLength(50);
    expect(rows.filter((row) => row.cap_group === 'routine')).toHaveLength(50);
    expect(rows.filter((row) => row.cap_group === 'kept').length).toBeGreaterThan(0);
  });

  it('LOG-01: retention deletes old events in batches (here 2,600 rows, batches of 500) and keeps the recent ones', async () => {
    const user = await signUp(t);
    const old = t.clock.now() - (t.config.audit.retentionDays + 1) * 86_400_000;
    const rows = Array.from({ length: 2_600 }, (_, index) => ({ id: `evt_old${String(index).padStart(5, '0')}`, type: 'factor.removed', user_id: user.userId, session_id: null, factor_id: null, ip: null, user_agent: null, details: null, created_at: old, cap_group: 'kept' as const }));
    for (let start = 0; start < rows.length; start += 500) await t.ctx.db.insertInto('security_events').values(rows.slice(start, start + 500)).execute();
    const report = await t.twofold.maintenance.runOnce();
    expect(report.auditEventsExpired).toBeGreaterThanOrEqual(2_600);
    const left = await eventRows(user.userId);
    expect(left.some((row) => row.id.startsWith('evt_old'))).toBe(false);
    expect(left.some((row) => row.type === 'user.registered')).toBe(true);
  });
});
