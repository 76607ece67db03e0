// Migration 0010: outbox rows kept before it held codes in clear. They are
// development data, so the migration deletes them — on SQLite with secure_delete and a checkpoint,
// so the text is gone from the database file too, not left in its free pages for a backup to copy —
// and the table comes back holding only sealed content.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Migrator, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../../src/store/connect.js';
import type { Database } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { migrations } from '../../src/store/migrations/index.js';
import { createPostgresSchema, makeTempDir, testBackend } from '../helpers/backend.js';

const plaintextMarker = 'Your Twofold code to sign in is 424242';

describe(`OB-01: migration 0010 on ${testBackend} deletes the outbox rows kept in clear`, () => {
  let opened: OpenedDatabase;
  let schema: string | undefined;
  let sqlitePath: string | undefined;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    if (testBackend === 'postgres') {
      const created = await createPostgresSchema();
      schema = created.schema;
      opened = openDatabase({ kind: 'postgres', url: created.url, schema, poolMax: 2, connectTimeoutMs: 2000, queryTimeoutMs: 5000 });
      await sql`create schema if not exists ${sql.id(schema)}`.execute(opened.db);
      dispose = async () => (await opened.close(), await created.dispose());
    } else {
      const dir = makeTempDir('twofold-migration-');
      sqlitePath = join(dir.path, 'old.db');
      opened = openDatabase({ kind: 'sqlite', path: sqlitePath });
      dispose = async () => (await opened.close(), dir.dispose());
    }
    const migrator = new Migrator({ db: opened.db, provider: { getMigrations: async () => migrations }, ...(schema === undefined ? {} : { migrationTableSchema: schema }) });
    const { error } = await migrator.migrateTo('0005-revoked-sessions-feed');
    expect(error).toBeUndefined();
    // An outbox as it was: codes in clear, enough rows to fill several pages.
    const old = opened.db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    for (let index = 0; index < 200; index += 1) {
      await old
        .insertInto('outbox')
        .values({ id: `msg_${index}`, channel: 'sms', destination: '+14155550100', subject: null, body: `${plaintextMarker}.${index}`, purpose: 'login', created_at: 1, expires_at: 2 })
        .execute();
    }
    if (sqlitePath !== undefined) await sql`pragma wal_checkpoint(truncate)`.execute(opened.db);
  });
  afterAll(async () => dispose?.());

  it('OB-01: before: the text is in clear in the table (and, on SQLite, in the file)', async () => {
    const rows = await sql<{ body: string }>`select body from outbox`.execute(opened.db);
    expect(rows.rows).toHaveLength(200);
    if (sqlitePath !== undefined) expect(readFileSync(sqlitePath).includes(plaintextMarker)).toBe(true);
  });

  it('OB-01: after: the table is empty, holds sealed content only, and no trace of the text is left in the SQLite file', async () => {
    expect((await migrateToLatest(opened.db as Kysely<Database>, { schema })).applied).toContain('0010-sealed-outbox');
    expect(await opened.db.selectFrom('outbox').selectAll().execute()).toEqual([]);
    await expect(sql`select body from outbox`.execute(opened.db)).rejects.toThrow();
    await opened.db
      .insertInto('outbox')
      .values({ id: 'msg_new', channel: 'email', destination: 'a@example.com', purpose: 'enroll', content_ciphertext: 'v1.kid.iv.ct.tag', created_at: 1, expires_at: 2 })
      .execute();
    if (sqlitePath !== undefined) {
      for (const file of [sqlitePath, `${sqlitePath}-wal`]) {
        if (existsSync(file)) expect(readFileSync(file).includes(plaintextMarker), `${file} still holds the old text`).toBe(false);
      }
    }
  });
});
