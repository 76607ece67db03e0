// Paged reads on the real database (SQLite in the "sqlite" project, PostgreSQL in "postgres"):
// each pages in a strict order — a unique key breaks every tie — so a page boundary inside a run of
// equal times is a cursor, not a wall, and each is answered through an index that matches its
// order (EXPLAIN shows an index range and no sort), so a page costs the same however many rows
// share its first key.
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateId } from '../../src/core/crypto/random.js';
import type { Database, NewSession } from '../../src/store/database.js';
import { accountOverviewQuery } from '../../src/store/repositories/account-overview.js';
import { openChallengeQuery } from '../../src/store/repositories/challenges.js';
import { expiredRowsQuery, expiringTables } from '../../src/store/repositories/expired-rows.js';
import { factorsOfUserQuery } from '../../src/store/repositories/factors.js';
import { refreshTokenByHashQuery } from '../../src/store/repositories/refresh-tokens.js';
import {
  eventsBeyondCapQuery,
  expiredSecurityEventsQuery,
  firstEventBeyondCapQuery,
  insertSecurityEvents,
  securityEventsOfUserPageQuery,
  securityEventsPageQuery,
} from '../../src/store/repositories/security-events.js';
import {
  endedSessionsBeforeQuery,
  listSessionsRevokedSince,
  liveSessionsOfUserPageQuery,
  revokedSessionsPageQuery,
  sessionsBeyondCapQuery,
  sessionsOfUserInStateQuery,
  sessionWithUserByIdQuery,
  timedOutSessionsQuery,
  type RevokedSessionsCursor,
} from '../../src/store/repositories/sessions.js';
import { liveTrustedDevicesPageQuery, trustedDeviceByHashQuery } from '../../src/store/repositories/trusted-devices.js';
import { insertUser, usersPageQuery } from '../../src/store/repositories/users.js';
import { databaseFactories, type TestDatabase } from './databases.js';

const revokedAt = Date.UTC(2026, 10, 29, 12);
const pageSize = 5_000;

/** Index names the plan reads, and whether it sorts, from EXPLAIN on either database. */
async function planOf(db: Kysely<Database>, query: { compile(): CompiledQuery }): Promise<{ indexes: string[]; sorts: boolean; text: string }> {
  const compiled = query.compile();
  if (db.getExecutor().adapter.constructor.name.toLowerCase().includes('postgres')) {
    // Tables this small would be read sequentially (or through a bitmap, then sorted) whatever the
    // indexes: forbid that, so the plan shows whether an index can answer the query at all, and in
    // its order — a Sort or a Seq Scan left in the plan means none can.
    return db.connection().execute(async (connection) => {
      await sql`set enable_seqscan = off`.execute(connection);
      await sql`set enable_sort = off`.execute(connection);
      await sql`set enable_bitmapscan = off`.execute(connection);
      try {
        const result = await connection.executeQuery<{ 'QUERY PLAN': unknown }>(CompiledQuery.raw(`explain (format json) ${compiled.sql}`, [...compiled.parameters]));
        const text = JSON.stringify(result.rows[0]?.['QUERY PLAN']);
        return { indexes: [...text.matchAll(/"Index Name":"([^"]+)"/g)].map((match) => match[1] ?? ''), sorts: /"Node Type":"(Incremental )?Sort"/.test(text), text };
      } finally {
        await sql`reset enable_seqscan`.execute(connection);
        await sql`reset enable_sort`.execute(connection);
        await sql`reset enable_bitmapscan`.execute(connection);
      }
    });
  }
  const result = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
  const text = result.rows.map((row) => row.detail).join('\n');
  return { indexes: [...text.matchAll(/USING (?:COVERING )?(?:INDEX (\S+)|(INTEGER PRIMARY KEY))/g)].map((match) => match[1] ?? match[2] ?? ''), sorts: text.includes('TEMP B-TREE'), text };
}

/**
 * A query costs its page, not its table: every table is reached through an index condition (no
 * sequential scan on PostgreSQL, no SCAN of a table or of a whole index on SQLite), nothing is
 * sorted, and — where named — the index is the one made for it.
 */
async function expectPagedPlan(db: Kysely<Database>, query: { compile(): CompiledQuery }, index?: string | string[], options: { fromTheStart?: boolean } = {}): Promise<void> {
  const plan = await planOf(db, query);
  expect(plan.sorts, plan.text).toBe(false);
  expect(plan.indexes.length, plan.text).toBeGreaterThan(0);
  if (index !== undefined) expect(plan.indexes.some((name) => (typeof index === 'string' ? [index] : index).includes(name)), plan.text).toBe(true);
  // PostgreSQL: no Seq Scan, and each index node has a condition (one without reads the whole index).
  expect(plan.text, plan.text).not.toMatch(/"Node Type":"Seq Scan"/);
  if (options.fromTheStart !== true) {
    const indexNodes = plan.text.match(/"Node Type":"Index (?:Only )?Scan"/g)?.length ?? 0;
    expect(plan.text.match(/"Index Cond":/g)?.length ?? 0, plan.text).toBe(indexNodes);
  }
  // SQLite: SEARCH is a range of an index; SCAN (other than of a one-row subquery) reads everything.
  // A first page with no condition at all reads an index from its start, and stops at the limit.
  const scans = plan.text.split('\n').filter((line) => /^SCAN /.test(line.trim()) && !(options.fromTheStart === true && / USING (?:COVERING )?INDEX /.test(line)));
  expect(scans, plan.text).toEqual([]);
}

function session(userId: string, overrides: Partial<NewSession>): NewSession {
  return {
    id: generateId('ses'),
    user_id: userId,
    state: 'revoked',
    mfa_jti: null,
    amr: '["pwd","otp","mfa"]',
    acr: 'aal2',
    auth_time: revokedAt - 60_000,
    client_id: 'twofold',
    ip: null,
    user_agent: null,
    created_at: revokedAt - 60_000,
    expires_at: revokedAt + 3_600_000,
    last_active_at: revokedAt - 60_000,
    revoked_at: revokedAt,
    revoke_reason: 'revoked_by_user',
    ...overrides,
  };
}

describe.each(databaseFactories)('paged queries on $name', (factory) => {
  let database: TestDatabase;
  let userId: string;
  /** The 12,000 signed-in sessions revoked in one millisecond. */
  const burst: string[] = [];

  beforeAll(async () => {
    database = await factory.open();
    userId = generateId('usr');
    await insertUser(database.db, { id: userId, username: userId.toLowerCase(), email: null, phone: null, password_hash: 'x', created_at: revokedAt, updated_at: revokedAt, disabled_at: null });
    const rows: NewSession[] = [];
    for (let index = 0; index < 12_000; index += 1) rows.push(session(userId, {}));
    burst.push(...rows.map((row) => row.id));
    // Around the burst: pending logins cancelled in the same millisecond (never had a token), and
    // one signed-in session revoked a millisecond before and one after.
    for (let index = 0; index < 300; index += 1) rows.push(session(userId, { auth_time: null, acr: 'aal1', amr: '["pwd"]' }));
    rows.push(session(userId, { id: 'ses_before', revoked_at: revokedAt - 1 }), session(userId, { id: 'ses_after', revoked_at: revokedAt + 1 }));
    for (let start = 0; start < rows.length; start += 500) await database.db.insertInto('sessions').values(rows.slice(start, start + 500)).execute();
    if (database.name === 'postgres') await sql`analyze sessions`.execute(database.db);
  }, 120_000);
  afterAll(async () => database.close());

  it('RC-04: 12,000 sessions revoked in one millisecond are read through in pages of 5,000, each once, in (revoked_at, id) order', async () => {
    const seen: Array<{ id: string; revoked_at: number }> = [];
    let cursor: RevokedSessionsCursor = { since: revokedAt - 1 };
    let pages = 0;
    for (;;) {
      const page = await listSessionsRevokedSince(database.db, cursor, pageSize);
      pages += 1;
      seen.push(...page);
      if (page.length < pageSize) break;
      const last = page.at(-1);
      if (last === undefined) break;
      cursor = { since: last.revoked_at, afterId: last.id };
      expect(pages).toBeLessThan(10); // a cursor that does not move would loop here
    }
    expect(pages).toBe(3);
    const ids = seen.map((row) => row.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe('ses_before');
    expect(ids.at(-1)).toBe('ses_after');
    expect(new Set(ids.slice(1, -1))).toEqual(new Set(burst));
    // The database's own order, which the cursor compares in: every row strictly after the previous.
    for (let index = 1; index < seen.length; index += 1) expect((seen[index]?.revoked_at ?? 0) >= (seen[index - 1]?.revoked_at ?? 0)).toBe(true);
  });

  it('RC-04: a cursor in the middle of the millisecond continues strictly after its row', async () => {
    const first = await listSessionsRevokedSince(database.db, { since: revokedAt }, 10);
    const middle = first[4];
    if (middle === undefined) throw new Error('no rows');
    const next = await listSessionsRevokedSince(database.db, { since: middle.revoked_at, afterId: middle.id }, 5);
    expect(next.map((row) => row.id)).toEqual(first.slice(5).map((row) => row.id));
  });

  it("RC-04: EXPLAIN — the feed's page queries (start and cursor) read the index sessions_revoked_feed, without a sort", async () => {
    for (const cursor of [{ since: revokedAt }, { since: revokedAt, afterId: burst[0] ?? '' }]) {
      const plan = await planOf(database.db, revokedSessionsPageQuery(database.db, cursor, pageSize));
      expect(plan.indexes, plan.text).toContain('sessions_revoked_feed');
      expect(plan.sorts, plan.text).toBe(false);
    }
  });

  it("EXPLAIN — a person's security events page (GET /v1/me/events?before=) reads the index (user_id, id), without a sort", async () => {
    const events = Array.from({ length: 50 }, (_, index) => ({ id: `evt_${String(index).padStart(4, '0')}`, type: 'login.succeeded', user_id: userId, session_id: null, factor_id: null, ip: null, user_agent: null, details: null, created_at: revokedAt }));
    await insertSecurityEvents(database.db, events);
    for (const page of [{ limit: 20 }, { limit: 20, before: 'evt_0030' }]) {
      const plan = await planOf(database.db, securityEventsOfUserPageQuery(database.db, userId, page));
      expect(plan.indexes, plan.text).toContain('security_events_user_id');
      expect(plan.sorts, plan.text).toBe(false);
    }
    const rows = await securityEventsOfUserPageQuery(database.db, userId, { limit: 20, before: 'evt_0030' }).execute();
    expect(rows.map((row) => row.id)).toEqual(Array.from({ length: 20 }, (_, index) => `evt_${String(29 - index).padStart(4, '0')}`));
  });

  describe('EXPLAIN — every hot query reads its page through an index, without a sort', () => {
    const now = revokedAt;
    const live = { now, idleMs: 1_800_000 };
    const sessionId = 'ses_before';
    /** A user among many (the RC-04 user above owns most sessions, which would skew PostgreSQL's estimates). */
    const listUserId = 'usr_lists';

    // Tables shaped like a busy deployment's, so PostgreSQL's planner (which reads statistics)
    // chooses as it would there: 3,000 live sessions of the user beside the 12,300 ended ones, their
    // refresh tokens and challenges, factors, remembered browsers, reset codes, outbox messages and
    // events of every group, about the user and about nobody.
    beforeAll(async () => {
      const db = database.db;
      const users = Array.from({ length: 2_000 }, (_, index) => ({ id: index === 0 ? listUserId : `usr_filler${index}`, username: index === 0 ? 'lists' : `filler${index}`, email: null, phone: null, password_hash: 'x', created_at: now, updated_at: now, disabled_at: null }));
      for (let start = 0; start < users.length; start += 500) await db.insertInto('users').values(users.slice(start, start + 500)).execute();
      const sessions: NewSession[] = Array.from({ length: 3_000 }, (_, index) =>
        session(listUserId, { id: `ses_live${String(index).padStart(5, '0')}`, state: 'active', revoked_at: null, revoke_reason: null, created_at: now - index * 1000, last_active_at: now - index, expires_at: now + 3_600_000 }),
      );
      // …and 100 logins waiting for their second factor, among 2,000 of another user.
      const otherUserId = generateId('usr');
      await insertUser(database.db, { id: otherUserId, username: otherUserId.toLowerCase(), email: null, phone: null, password_hash: 'x', created_at: now, updated_at: now, disabled_at: null });
      sessions.push(...Array.from({ length: 2_100 }, (_, index) => session(index < 100 ? listUserId : otherUserId, { id: `ses_pending${index}`, state: 'pending', auth_time: null, revoked_at: null, revoke_reason: null, created_at: now - index, expires_at: now + 300_000 - index * 1000 })));
      // Others are signed in too: 10,000 sessions of 1,000 other users.
      sessions.push(...Array.from({ length: 10_000 }, (_, index) => session(`usr_filler${(index % 1_000) + 1}`, { id: `ses_others${index}`, state: 'active', revoked_at: null, revoke_reason: null, created_at: now - index, last_active_at: now - index, expires_at: now + 3_600_000 })));
      for (let start = 0; start < sessions.length; start += 500) await db.insertInto('sessions').values(sessions.slice(start, start + 500)).execute();
      const factors = Array.from({ length: 20 }, (_, index) => ({ id: `fac_${index}`, user_id: listUserId, type: 'totp' as const, label: null, status: 'active' as const, secret_ciphertext: null, destination: null, created_at: now + index, activated_at: now, last_used_at: null, session_id: null }));
      await db.insertInto('factors').values(factors).execute();
      const rows = <T,>(count: number, make: (index: number) => T) => Array.from({ length: count }, (_, index) => make(index));
      const batches = async <T,>(table: 'refresh_tokens' | 'challenges' | 'trusted_devices' | 'password_resets' | 'email_verifications' | 'outbox', values: T[]) => {
        for (let start = 0; start < values.length; start += 500) await db.insertInto(table).values(values.slice(start, start + 500) as never).execute();
      };
      await batches('refresh_tokens', rows(3_000, (index) => ({ id: `rt_${index}`, session_id: `ses_live${String(index).padStart(5, '0')}`, token_hash: `hash${index}`, parent_id: null, created_at: now, expires_at: now + index * 1000 - 1_000_000, used_at: null, revoked_at: null })));
      await batches('challenges', rows(3_000, (index) => ({ id: `chl_${index}`, user_id: listUserId, factor_id: `fac_${index % 20}`, session_id: `ses_live${String(index).padStart(5, '0')}`, kind: 'otp', purpose: 'login', secret: 's', created_at: now, expires_at: now + index * 1000 - 1_000_000, used_at: null, superseded_at: null })));
      await batches('trusted_devices', rows(3_000, (index) => ({ id: `dev_${index}`, user_id: listUserId, token_hash: `hash${index}`, label: null, created_at: now - index, expires_at: now + index * 1000 - 1_000_000, last_used_at: null, revoked_at: null })));
      await batches('password_resets', rows(3_000, (index) => ({ id: `pwr_${index}`, account_hash: `name${index}`, user_id: index % 3 === 0 ? listUserId : null, code_hash: `hash${index}`, created_at: now, expires_at: now + index * 1000 - 1_000_000, used_at: null })));
      await batches('email_verifications', rows(3_000, (index) => ({ id: `evl_${index}`, user_id: listUserId, email: 'a@example.com', token_hash: `hash${index}`, created_at: now, expires_at: now + index * 1000 - 1_000_000, used_at: null })));
      await batches('outbox', rows(3_000, (index) => ({ id: `out_${index}`, channel: 'email', destination: 'a@example.com', purpose: 'login', content_ciphertext: 'x', created_at: now, expires_at: now + index * 1000 - 1_000_000 })));
      const groups = ['own', 'others', 'routine', 'kept'] as const;
      // The user's and nobody's events are a small share of the table, as in a deployment of many users.
      const events = rows(20_000, (index) => ({
        id: `evt_seed${String(index).padStart(5, '0')}`,
        type: 'login.password_failed',
        user_id: index % 20 === 0 ? null : index % 20 === 1 ? listUserId : otherUserId,
        session_id: null,
        factor_id: null,
        ip: null,
        user_agent: null,
        details: null,
        created_at: now - index * 1000,
        cap_group: groups[Math.floor(index / 20) % 4] ?? 'own',
      }));
      for (let start = 0; start < events.length; start += 500) await insertSecurityEvents(db, events.slice(start, start + 500));
      if (database.name === 'postgres') await sql`analyze`.execute(db);
    }, 120_000);

    it('the per-request join (session and user by id), the refresh-token and remembered-browser lookups by hash, a user by name and the users page', async () => {
      await expectPagedPlan(database.db, sessionWithUserByIdQuery(database.db));
      await expectPagedPlan(database.db, refreshTokenByHashQuery(database.db, 'hash'));
      await expectPagedPlan(database.db, trustedDeviceByHashQuery(database.db, 'hash'));
      await expectPagedPlan(database.db, usersPageQuery(database.db, { limit: 50 }), undefined, { fromTheStart: true });
      await expectPagedPlan(database.db, usersPageQuery(database.db, { limit: 50, after: listUserId }));
    });

    it("SS-07: a user's live sessions page (first and next), the cap's oldest beyond it, sign out everywhere's batches: sessions_user_live", async () => {
      await expectPagedPlan(database.db, liveSessionsOfUserPageQuery(database.db, listUserId, live, { limit: 50 }), 'sessions_user_live');
      await expectPagedPlan(database.db, liveSessionsOfUserPageQuery(database.db, listUserId, live, { limit: 50, before: { createdAt: now, id: sessionId } }), 'sessions_user_live');
      await expectPagedPlan(database.db, sessionsBeyondCapQuery(database.db, listUserId, live, { keep: 99, exceptId: sessionId, limit: 500 }), 'sessions_user_live');
      for (const state of ['pending', 'active'] as const) await expectPagedPlan(database.db, sessionsOfUserInStateQuery(database.db, listUserId, state, { exceptId: sessionId, limit: 500 }), 'sessions_user_live');
    });

    it('SS-03: the retirer finds timed-out sessions, and the purge long-ended ones, by a range of their deadline', async () => {
      await expectPagedPlan(database.db, timedOutSessionsQuery(database.db, 'absolute_timeout', live, 500), 'sessions_active_expires');
      await expectPagedPlan(database.db, timedOutSessionsQuery(database.db, 'login_expired', live, 500), 'sessions_pending_expires');
      await expectPagedPlan(database.db, timedOutSessionsQuery(database.db, 'idle_timeout', live, 500), 'sessions_active_last_active');
      await expectPagedPlan(database.db, endedSessionsBeforeQuery(database.db, now, 500), 'sessions_revoked_expires');
    });

    it("a user's factors (sign-in, GET /v1/me's overview) in their order, the open challenge of a factor, remembered browsers page", async () => {
      await expectPagedPlan(database.db, factorsOfUserQuery(database.db), 'factors_user_created');
      await expectPagedPlan(database.db, accountOverviewQuery(database.db), 'factors_user_created');
      await expectPagedPlan(database.db, openChallengeQuery(database.db, 'fac_x', sessionId, now), 'challenges_factor_session_created');
      await expectPagedPlan(database.db, liveTrustedDevicesPageQuery(database.db, listUserId, now, { limit: 50 }), 'trusted_devices_user_created');
      await expectPagedPlan(database.db, liveTrustedDevicesPageQuery(database.db, listUserId, now, { limit: 50, before: { createdAt: now, id: 'dev_x' } }), 'trusted_devices_user_created');
    });

    it("the audit trail's cap (a user's and nobody's), its retention, the operator's pages", async () => {
      for (const owner of [listUserId, null]) {
        // A cap well below the group's rows, as in a flood (the plan of an offset near the group's
        // size reads the group either way).
        // SQLite orders (user_id, cap_group, id) under an IS NULL as under an equality; PostgreSQL needs the partial index.
        const index = owner === null ? ['security_events_nobody_cap', ...(database.name === 'sqlite' ? ['security_events_user_cap'] : [])] : 'security_events_user_cap';
        await expectPagedPlan(database.db, firstEventBeyondCapQuery(database.db, owner, 'others', 100), index);
        await expectPagedPlan(database.db, eventsBeyondCapQuery(database.db, owner, 'own', 'evt_x', 500), index);
      }
      await expectPagedPlan(database.db, expiredSecurityEventsQuery(database.db, now, 500), 'security_events_created');
      await expectPagedPlan(database.db, securityEventsPageQuery(database.db, { userId: listUserId, limit: 50, before: 'evt_x' }), 'security_events_user_id');
    });

    it('expired challenges, reset codes, verification links, remembered browsers, refresh tokens and outbox messages are found by an index on expires_at', async () => {
      for (const table of expiringTables) await expectPagedPlan(database.db, expiredRowsQuery(database.db, table, now, 500), `${table}_expires_at`);
    });
  });
});
