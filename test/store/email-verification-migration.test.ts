// Migration 0008: addresses stored before it start unverified — nothing ever proved that their
// owner asked for mail (a throw-away account could carry anyone's address) — and pending reset
// codes are dropped with the old password_resets table (they live 15 minutes; people ask again).
import { join } from 'node:path';
import { Migrator, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../../src/store/connect.js';
import type { Database } from '../../src/store/database.js';
import { migrations } from '../../src/store/migrations/index.js';
import { createPostgresSchema, makeTempDir, testBackend } from '../helpers/backend.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openEmpty(): Promise<{ opened: OpenedDatabase; schema: string | undefined }> {
  if (testBackend === 'postgres') {
    const schema = await createPostgresSchema();
    const opened = openDatabase({ kind: 'postgres', url: schema.url, schema: schema.schema, poolMax: 2, connectTimeoutMs: 2000, queryTimeoutMs: 5000 });
    cleanups.push(() => schema.dispose(), () => opened.close());
    return { opened, schema: schema.schema };
  }
  const dir = makeTempDir('twofold-migration-');
  const opened = openDatabase({ kind: 'sqlite', path: join(dir.path, 'twofold.db') });
  cleanups.push(dir.dispose, () => opened.close());
  return { opened, schema: undefined };
}

function migrator(db: Kysely<Database>, schema: string | undefined): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations }, ...(schema === undefined ? {} : { migrationTableSchema: schema }) });
}

describe('migration 0008-email-verification', () => {
  it('RC-02: an address stored before it is unverified after it; a pending reset code is gone; down restores the old shape', async () => {
    const { opened, schema } = await openEmpty();
    const db = opened.db as unknown as Kysely<any>;
    expect((await migrator(opened.db, schema).migrateTo('0005-revoked-sessions-feed')).error).toBeUndefined();
    await db.insertInto('users').values({ id: 'usr_old', username: 'olduser', email: 'old@example.com', phone: null, password_hash: 'x', created_at: 1, updated_at: 1, disabled_at: null }).execute();
    await db.insertInto('password_resets').values({ id: 'pwr_old', user_id: 'usr_old', code_hash: 'h', created_at: 1, expires_at: 2, used_at: null }).execute();

    expect((await migrator(opened.db, schema).migrateTo('0008-email-verification')).error).toBeUndefined();
    const user = await opened.db.selectFrom('users').selectAll().where('id', '=', 'usr_old').executeTakeFirstOrThrow();
    expect(user).toMatchObject({ email: 'old@example.com', email_verified_at: null });
    expect(await opened.db.selectFrom('password_resets').selectAll().execute()).toEqual([]);
    // The new shape: one row per name asked about, the account optional.
    await opened.db.insertInto('password_resets').values({ id: 'pwr_new', account_hash: 'name-hash', user_id: null, code_hash: 'h2', attempts: 0, created_at: 1, expires_at: 2, used_at: null }).execute();
    await expect(opened.db.insertInto('password_resets').values({ id: 'pwr_dup', account_hash: 'name-hash', user_id: null, code_hash: 'h3', attempts: 0, created_at: 1, expires_at: 2, used_at: null }).execute()).rejects.toThrow();

    expect((await migrator(opened.db, schema).migrateTo('0005-revoked-sessions-feed')).error).toBeUndefined();
    await db.insertInto('password_resets').values({ id: 'pwr_back', user_id: 'usr_old', code_hash: 'h4', created_at: 1, expires_at: 2, used_at: null }).execute();
    expect(await db.selectFrom('users').select('email').where('id', '=', 'usr_old').executeTakeFirstOrThrow()).toEqual({ email: 'old@example.com' });
  });
});
