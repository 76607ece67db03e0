// Importing a Better Auth user base that lives in PostgreSQL: Better Auth itself (npm, node-postgres
// pool, twoFactor plugin) makes the database, and `twofold import --from better-auth <postgres URL>`
// reads it directly — the same records as from its SQLite file, so the same people sign in with
// their old password and authenticator entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importUsers, type ImportReportEntry } from '../../src/admin/import/import-users.js';
import { readSourceRecords } from '../../src/admin/import/read-source.js';
import { countBetterAuthPostgresUsers } from '../../src/admin/import/sources/better-auth-postgres.js';
import { createPostgresDatabase, makeTempDir, testDatabaseUrl, withClient } from '../helpers/backend.js';
import { makeBetterAuthExport, type BetterAuthExport } from '../helpers/better-auth-export.js';
import { bearer, postJson } from '../helpers/flow.js';
import { requirement } from '../helpers/requirements.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const ada = { email: 'ada@example.com', password: 'analytical engine 1843', name: 'Ada', totp: 'confirmed' as const };
const bob = { email: 'bob.smith+work@example.org', password: 'bobs own passphrase', name: 'Bob' };
const cyd = { email: 'cyd@example.net', password: 'never finished enrolling', name: 'Cyd', totp: 'unconfirmed' as const };

const runs = requirement('Better Auth on PostgreSQL import test', testDatabaseUrl !== undefined, 'set TWOFOLD_TEST_DATABASE_URL (see .ci/run)');

describe.runIf(runs)('twofold import --from better-auth postgres://…', () => {
  let database: { url: string; dispose(): Promise<void> };
  let dir: { path: string; dispose(): void };
  let exported: BetterAuthExport;
  let t: TestTwofold;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    dir = makeTempDir('twofold-better-auth-pg-');
    exported = await makeBetterAuthExport(dir.path, [ada, bob, cyd], { postgresUrl: database.url });
    t = await startTestTwofold();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await database?.dispose();
    dir?.dispose();
  });

  async function runImport(url = exported.file) {
    const entries: ImportReportEntry[] = [];
    const records = readSourceRecords('better-auth', url, { betterAuthSecret: exported.secret, now: t.clock.now() });
    const summary = await importUsers(t.ctx, records, { source: 'better-auth', dryRun: false, onEntry: (entry) => void entries.push(entry) });
    return { summary, entries };
  }

  it('AD-03: reads every person of a real Better Auth PostgreSQL database; TOTP only where it was confirmed; the database is not written', async () => {
    expect(await countBetterAuthPostgresUsers(exported.file)).toBe(3);
    const before = await withClient(exported.file, async (client) => (await client.query('select xmin::text, * from "user" order by id')).rows);
    const { summary, entries } = await runImport();
    expect(summary).toMatchObject({ read: 3, imported: 3, skipped: 0 });
    expect(new Map(entries.map((entry) => [entry.username, entry.totp_factors]))).toEqual(new Map([['ada', 1], ['bob.smith-work', 0], ['cyd', 0]]));
    const stored = await t.ctx.db.selectFrom('users').select(['email', 'password_hash', 'created_at']).orderBy('email').execute();
    expect(stored.map((row) => row.email)).toEqual([ada.email, bob.email, cyd.email]);
    expect(stored.every((row) => row.password_hash.startsWith('$scrypt$n=16384,r=16,p=1$'))).toBe(true);
    // Better Auth's timestamptz (a Date from the driver) is the account's creation time.
    expect(stored.every((row) => Math.abs(row.created_at - Date.now()) < 10 * 60_000)).toBe(true);
    expect(await withClient(exported.file, async (client) => (await client.query('select xmin::text, * from "user" order by id')).rows)).toEqual(before);
  });

  it('AD-03: the imported person signs in with the Better Auth password and the authenticator entry they had', async () => {
    const login = await postJson(t.app, '/v1/login', { username: 'ada', password: ada.password });
    expect(login.statusCode, login.body).toBe(200);
    expect(login.json()).toMatchObject({ next: 'verify', factors: [{ type: 'totp' }] });
    const code = exported.authenticators.get(ada.email)!.generate({ timestamp: t.clock.now() });
    const verified = await postJson(t.app, '/v1/mfa/verify', { code }, bearer(login.json().mfa_token));
    expect(verified.statusCode, verified.body).toBe(200);
  });

  it('AD-21: a second run imports nobody twice', async () => {
    const { summary } = await runImport();
    expect(summary).toMatchObject({ read: 3, imported: 0, skipped: 3, skipped_by_reason: { already_imported: 3 } });
  });

  it('AD-03: more people than one page (500) are each read once, in id order, across pages', async () => {
    const many = await createPostgresDatabase();
    try {
      await withClient(many.url, async (client) => {
        await client.query('create table "user" (id text primary key, email text, "emailVerified" boolean, "createdAt" timestamptz); create table account (id text, "userId" text, "providerId" text, password text)');
        await client.query(`insert into "user" select 'u' || lpad(n::text, 5, '0'), 'p' || n || '@example.com', n % 2 = 0, now() from generate_series(1, 1203) n`);
        await client.query(`insert into account select 'a' || n, 'u' || lpad(n::text, 5, '0'), 'credential', '$2b$04$' || rpad('x', 53, 'x') from generate_series(1, 1203) n where n % 3 <> 0`);
      });
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

  it('AD-20: a URL that reaches no Better Auth database refuses the run clearly, and a table without an id column of a Better Auth type refuses the record', async () => {
    const empty = await createPostgresDatabase();
    try {
      await expect(countBetterAuthPostgresUsers(empty.url)).rejects.toThrow(/"user" does not exist/);
      await withClient(empty.url, (client) => client.query('create table "user" (id jsonb, email text)'));
      const records = [];
      for await (const record of readSourceRecords('better-auth', empty.url, { now: Date.now() })) records.push(record);
      expect(records).toMatchObject([{ kind: 'skip', reason: 'malformed_record' }]);
    } finally {
      await empty.dispose();
    }
  });
});
