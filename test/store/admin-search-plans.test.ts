// The admin's user search reaches users through the indexes migrations 0023 and 0025 made for
// each filter (EXPLAIN on the real database: SQLite in the "sqlite" project, PostgreSQL in
// "postgres"), never by reading the whole table — so a search costs its page, not the million
// users beside it. Time ranges, prefixes and the plain list read their index in the page's order
// (no sort: the walk stops when the page is full, however many people match a short prefix); a
// phone suffix sorts only its matches by id.
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
  { name: 'username or e-mail prefix, e-mail walk', query: { q: 'ab12', hasFactor: 'totp', after: after(`email.${after('ab12@x')}.usr_x`) }, indexes: ['users_email_order'], ordered: true },
  { name: 'e-mail prefix', query: { email: 'eab12' }, indexes: ['users_email_order'], ordered: true },
  { name: 'e-mail prefix, next page', query: { email: 'eab12', after: after(`email.${after('eab12@x')}.usr_x`) }, indexes: ['users_email_order'], ordered: true },
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

  it.each([{ q: 'ab12' }, { q: 'a', hasFactor: 'totp' as const }, { q: 'ab12', after: after(`username.${after('ab12x')}.usr_x`) }])(
    'a username-or-e-mail prefix first walks the usernames in their index order, bytewise on both dialects ($q)',
    async (query) => {
      const { text, postgres } = await planText(database.db, query);
      expect(text, text).toContain(postgres ? 'users_username_order' : 'sqlite_autoindex_users_2');
      if (postgres) expect(text, text).not.toMatch(/"Node Type":"(Incremental )?Sort"|"Seq Scan"/);
      else expect(text, text).not.toContain('TEMP B-TREE');
    },
  );
});
