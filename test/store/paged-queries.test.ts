// Paged reads on the real database (SQLite in the "sqlite" project, PostgreSQL in "postgres"):
// each pages in a strict order — a unique key breaks every tie — so a page boundary inside a run of
// equal times is a cursor, not a wall, and each is answered through an index that matches its
// order (EXPLAIN shows an index range and no sort), so a page costs the same however many rows
// share its first key.
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateId } from '../../src/core/crypto/random.js';
import type { Database, NewSession } from '../../src/store/database.js';
import { insertSecurityEvents, securityEventsOfUserPageQuery } from '../../src/store/repositories/security-events.js';
import { listSessionsRevokedSince, revokedSessionsPageQuery, type RevokedSessionsCursor } from '../../src/store/repositories/sessions.js';
import { insertUser } from '../../src/store/repositories/users.js';
import { databaseFactories, type TestDatabase } from './databases.js';

const revokedAt = Date.UTC(2026, 10, 29, 12);
const pageSize = 5_000;

/** Index names the plan reads, and whether it sorts, from EXPLAIN on either database. */
async function planOf(db: Kysely<Database>, query: { compile(): CompiledQuery }): Promise<{ indexes: string[]; sorts: boolean; text: string }> {
  const compiled = query.compile();
  if (db.getExecutor().adapter.constructor.name.toLowerCase().includes('postgres')) {
    // Tables this small would be read sequentially whatever the indexes: forbid that, so the plan
    // shows whether an index can answer the query at all (and in its order).
    return db.connection().execute(async (connection) => {
      await sql`set enable_seqscan = off`.execute(connection);
      try {
        const result = await connection.executeQuery<{ 'QUERY PLAN': unknown }>(CompiledQuery.raw(`explain (format json) ${compiled.sql}`, [...compiled.parameters]));
        const text = JSON.stringify(result.rows[0]?.['QUERY PLAN']);
        return { indexes: [...text.matchAll(/"Index Name":"([^"]+)"/g)].map((match) => match[1] ?? ''), sorts: /"Node Type":"(Incremental )?Sort"/.test(text), text };
      } finally {
        await sql`reset enable_seqscan`.execute(connection);
      }
    });
  }
  const result = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
  const text = result.rows.map((row) => row.detail).join('\n');
  return { indexes: [...text.matchAll(/USING (?:COVERING )?INDEX (\S+)/g)].map((match) => match[1] ?? ''), sorts: text.includes('TEMP B-TREE'), text };
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
});
