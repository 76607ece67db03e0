// The admin's user search reaches users through the indexes migration 0023 made for each filter
// (EXPLAIN on the real database: SQLite in the "sqlite" project, PostgreSQL in "postgres"), never
// by reading the whole table — so a search costs its matches, not the million users beside them.
// Time ranges and the plain list read their index in the page's order (no sort); a prefix or a
// suffix sorts only its matches by id.
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAdminUserQuery, type AdminUserQuery } from '../../src/admin/user-search.js';
import type { Database } from '../../src/store/database.js';
import { userSearchQuery } from '../../src/store/repositories/admin-user-search.js';
import { databaseFactories, type TestDatabase } from './databases.js';

async function planText(db: Kysely<Database>, query: AdminUserQuery): Promise<{ text: string; postgres: boolean }> {
  const parsed = parseAdminUserQuery(query);
  const compiled = userSearchQuery(db, parsed.filter, { order: parsed.order, limit: 51, after: parsed.after }).compile();
  if (db.getExecutor().adapter.constructor.name.toLowerCase().includes('postgres')) {
    // An empty table would be read sequentially whatever the indexes: forbid that, so the plan
    // shows whether an index can answer the query at all.
    return db.connection().execute(async (connection) => {
      await sql`set enable_seqscan = off`.execute(connection);
      try {
        const result = await connection.executeQuery<{ 'QUERY PLAN': unknown }>(CompiledQuery.raw(`explain (format json) ${compiled.sql}`, [...compiled.parameters]));
        return { text: JSON.stringify(result.rows[0]?.['QUERY PLAN']), postgres: true };
      } finally {
        await sql`reset enable_seqscan`.execute(connection);
      }
    });
  }
  const result = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
  return { text: result.rows.map((row) => row.detail).join('\n'), postgres: false };
}

const after = (text: string) => Buffer.from(text).toString('base64url');

// Each search, the index(es) it must use, and whether its order comes from the index (no sort).
const searches: { name: string; query: AdminUserQuery; indexes: string[]; ordered: boolean }[] = [
  { name: 'username or e-mail prefix', query: { q: 'ab12' }, indexes: ['users_email_prefix'], ordered: false },
  { name: 'e-mail prefix', query: { email: 'eab12' }, indexes: ['users_email_prefix'], ordered: false },
  { name: 'phone suffix', query: { phoneSuffix: '1234' }, indexes: ['users_phone_suffix'], ordered: false },
  { name: 'creation range, next page', query: { createdAfter: 1, createdBefore: 10_000_000, after: after('created_at.5.usr_x') }, indexes: ['users_created_at'], ordered: true },
  { name: 'last sign-in range', query: { lastSignInAfter: 1, lastSignInBefore: 10_000_000, locked: false }, indexes: ['users_last_sign_in_at'], ordered: true },
  { name: 'locked', query: { locked: true }, indexes: ['users_locked'], ordered: true },
];

describe.each(databaseFactories)('admin search plans on $name', (factory) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await factory.open();
  });
  afterAll(async () => database.close());

  it.each(searches)('the $name search uses its index and never reads the whole users table', async ({ query, indexes, ordered }) => {
    const { text, postgres } = await planText(database.db, query);
    for (const index of indexes) expect(text, text).toContain(index);
    if (postgres) {
      expect(text, text).not.toMatch(/"Node Type":"Seq Scan"/);
      if (ordered) expect(text, text).not.toMatch(/"Node Type":"(Incremental )?Sort"/);
    } else {
      expect(text.split('\n').filter((line) => /^SCAN users$/.test(line.trim())), text).toEqual([]);
      if (ordered) expect(text, text).not.toContain('TEMP B-TREE');
    }
  });

  it('a username prefix is an index range on PostgreSQL (C-ordered text_pattern_ops) and on SQLite (the unique index)', async () => {
    const { text, postgres } = await planText(database.db, { q: 'ab12' });
    expect(text, text).toContain(postgres ? 'users_username_prefix' : 'sqlite_autoindex_users_2');
  });
});
