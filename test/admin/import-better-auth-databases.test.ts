// Importing a Better Auth user base that lives in PostgreSQL or MySQL/MariaDB: Better Auth itself
// (npm, a node-postgres or mysql2 pool, twoFactor plugin) makes the database, and
// `twofold import --from better-auth <URL>` reads it directly — the same records as from its SQLite
// file, so the same people sign in with their old password and authenticator entry.
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importUsers, type ImportReportEntry } from '../../src/admin/import/import-users.js';
import { readSourceRecords } from '../../src/admin/import/read-source.js';
import { countBetterAuthDatabaseUsers } from '../../src/admin/import/sources/better-auth-database.js';
import { betterAuthDatabase } from '../../src/admin/import/sources/better-auth-databases.js';
import { createPostgresDatabase, makeTempDir, testDatabaseUrl, uniqueName, withClient } from '../helpers/backend.js';
import { makeBetterAuthExport, signInAsImported, type BetterAuthExport } from '../helpers/better-auth-export.js';
import { requirement } from '../helpers/requirements.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const ada = { email: 'ada@example.com', password: 'analytical engine 1843', name: 'Ada', totp: 'confirmed' as const };
const bob = { email: 'bob.smith+work@example.org', password: 'bobs own passphrase', name: 'Bob' };
const cyd = { email: 'cyd@example.net', password: 'never finished enrolling', name: 'Cyd', totp: 'unconfirmed' as const };

const testMysqlUrl = process.env['TWOFOLD_TEST_MYSQL_URL'];

/** A dialect: a fresh database of its own, and plain SQL run in it. */
interface Dialect {
  name: string;
  runs: boolean;
  createDatabase(): Promise<{ url: string; dispose(): Promise<void> }>;
  run(url: string, statements: string[]): Promise<void>;
  /** A table named "user" with the given column list, and n users u00001… with every third one lacking a password account. */
  manyUsersStatements(n: number): string[];
  /** Every row of "user", to compare before and after a read. */
  snapshot(url: string): Promise<unknown[]>;
}

const postgres: Dialect = {
  name: 'PostgreSQL',
  runs: requirement('Better Auth on PostgreSQL import test', testDatabaseUrl !== undefined, 'set TWOFOLD_TEST_DATABASE_URL (see .ci/run)'),
  createDatabase: () => createPostgresDatabase(),
  run: (url, statements) => withClient(url, async (client) => {
    for (const statement of statements) await client.query(statement);
  }),
  manyUsersStatements: (n) => [
    'create table "user" (id text primary key, email text, "emailVerified" boolean, "createdAt" timestamptz)',
    'create table account (id text, "userId" text, "providerId" text, password text)',
    `insert into "user" select 'u' || lpad(n::text, 5, '0'), 'p' || n || '@example.com', n % 2 = 0, now() from generate_series(1, ${n}) n`,
    `insert into account select 'a' || n, 'u' || lpad(n::text, 5, '0'), 'credential', '$2b$04$' || rpad('x', 53, 'x') from generate_series(1, ${n}) n where n % 3 <> 0`,
  ],
  snapshot: (url) => withClient(url, async (client) => (await client.query('select xmin::text, * from "user" order by id')).rows),
};

const numbers = (n: number) => Array.from({ length: n }, (_, index) => index + 1);

async function withMysql<T>(url: string, work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: url, timezone: 'Z' });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

const mysqlDialect: Dialect = {
  name: 'MySQL (MariaDB)',
  runs: requirement('Better Auth on MySQL import test', testMysqlUrl !== undefined, 'set TWOFOLD_TEST_MYSQL_URL to a MySQL or MariaDB server a test may create databases on, e.g. mysql://root@127.0.0.1:3306/test (see .ci/run)'),
  async createDatabase() {
    const name = uniqueName('twofold_ba');
    await withMysql(testMysqlUrl ?? '', (connection) => connection.query(`create database ${name}`));
    const url = new URL(testMysqlUrl ?? '');
    url.pathname = `/${name}`;
    return { url: url.toString(), dispose: () => withMysql(testMysqlUrl ?? '', (connection) => connection.query(`drop database if exists ${name}`)).then(() => undefined) };
  },
  run: (url, statements) => withMysql(url, async (connection) => {
    for (const statement of statements) await connection.query(statement);
  }),
  manyUsersStatements: (n) => [
    'create table `user` (id varchar(36) primary key, email text, emailVerified tinyint(1), createdAt datetime(3))',
    'create table account (id varchar(36), userId varchar(36), providerId varchar(64), password text)',
    `insert into \`user\` values ${numbers(n).map((i) => `('u${String(i).padStart(5, '0')}', 'p${i}@example.com', ${i % 2 === 0 ? 1 : 0}, utc_timestamp(3))`).join(', ')}`,
    `insert into account values ${numbers(n).filter((i) => i % 3 !== 0).map((i) => `('a${i}', 'u${String(i).padStart(5, '0')}', 'credential', '$2b$04$${'x'.repeat(53)}')`).join(', ')}`,
  ],
  snapshot: (url) => withMysql(url, async (connection) => (await connection.query('select * from `user` order by id'))[0] as unknown[]),
};

describe.each([postgres, mysqlDialect].filter((dialect) => dialect.runs))('twofold import --from better-auth <URL> on $name', (dialect) => {
  let database: { url: string; dispose(): Promise<void> };
  let dir: { path: string; dispose(): void };
  let exported: BetterAuthExport;
  let t: TestTwofold;
  beforeAll(async () => {
    database = await dialect.createDatabase();
    dir = makeTempDir('twofold-better-auth-db-');
    exported = await makeBetterAuthExport(dir.path, [ada, bob, cyd], { databaseUrl: database.url });
    t = await startTestTwofold();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await database?.dispose();
    dir?.dispose();
  });

  const count = (url: string) => countBetterAuthDatabaseUsers(betterAuthDatabase(url)!);

  async function runImport() {
    const entries: ImportReportEntry[] = [];
    const records = readSourceRecords('better-auth', exported.file, { betterAuthSecret: exported.secret, now: t.clock.now() });
    const summary = await importUsers(t.ctx, records, { source: 'better-auth', dryRun: false, onEntry: (entry) => void entries.push(entry) });
    return { summary, entries };
  }

  it('AD-03: reads every person of a real Better Auth database; TOTP only where it was confirmed; the database is not written', async () => {
    expect(await count(exported.file)).toBe(3);
    const before = await dialect.snapshot(exported.file);
    const { summary, entries } = await runImport();
    expect(summary).toMatchObject({ read: 3, imported: 3, skipped: 0 });
    expect(new Map(entries.map((entry) => [entry.username, entry.totp_factors]))).toEqual(new Map([['ada', 1], ['bob.smith-work', 0], ['cyd', 0]]));
    const stored = await t.ctx.db.selectFrom('users').select(['email', 'password_hash', 'created_at']).orderBy('email').execute();
    expect(stored.map((row) => row.email)).toEqual([ada.email, bob.email, cyd.email]);
    expect(stored.every((row) => row.password_hash.startsWith('$scrypt$n=16384,r=16,p=1$'))).toBe(true);
    // Better Auth's timestamps (Dates from the driver) are the accounts' creation times.
    expect(stored.every((row) => Math.abs(row.created_at - Date.now()) < 10 * 60_000)).toBe(true);
    expect(await dialect.snapshot(exported.file)).toEqual(before);
  });

  it('AD-03: the imported person signs in with the Better Auth password and the authenticator entry they had', async () => {
    await signInAsImported(t, exported, ada, 'ada');
  });

  it('AD-21: a second run imports nobody twice', async () => {
    const { summary } = await runImport();
    expect(summary).toMatchObject({ read: 3, imported: 0, skipped: 3, skipped_by_reason: { already_imported: 3 } });
  });

  it('AD-03: more people than one page (500) are each read once, in id order, across pages', async () => {
    const many = await dialect.createDatabase();
    try {
      await dialect.run(many.url, dialect.manyUsersStatements(1203));
      const ids: string[] = [];
      const reasons = new Map<string, number>();
      for await (const record of readSourceRecords('better-auth', many.url, { now: Date.now() })) {
        const id = record.kind === 'user' ? record.candidate.sourceId : record.sourceId;
        if (id !== null) ids.push(id);
        if (record.kind === 'skip') reasons.set(record.reason, (reasons.get(record.reason) ?? 0) + 1);
      }
      expect(ids).toHaveLength(1203);
      expect(new Set(ids).size).toBe(1203);
      expect(ids).toEqual([...ids].sort());
      // Every third person has no password account: refused for that reason, not for a page break.
      expect(reasons.get('no_password')).toBe(401);
    } finally {
      await many.dispose();
    }
  });

  it('AD-20: a database without Better Auth\'s tables refuses the run clearly, and a "user" table whose id is no Better Auth id type refuses the record', async () => {
    const empty = await dialect.createDatabase();
    try {
      await expect(count(empty.url)).rejects.toThrow(/user/);
      await dialect.run(empty.url, [dialect.name === 'PostgreSQL' ? 'create table "user" (id jsonb, email text)' : 'create table `user` (id json, email text)']);
      const records = [];
      for await (const record of readSourceRecords('better-auth', empty.url, { now: Date.now() })) records.push(record);
      expect(records).toMatchObject([{ kind: 'skip', reason: 'malformed_record' }]);
    } finally {
      await empty.dispose();
    }
  });
});
