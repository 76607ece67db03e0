// The development outbox keeps no code in clear: each message's subject and text are one
// secretbox envelope (AAD "outbox|<id>"), opened by `twofold outbox` with the encryption key, so a
// copy of the database or a backup shows no code. The rows kept until now held codes in clear;
// they were development data that expire within minutes, so the table is recreated empty rather
// than sealed in place (sealing needs the key, which migrations never hold). SQLite keeps the
// content of dropped pages in the file (and so in every backup) unless secure_delete zeroes them,
// and a checkpoint carries the zeroed pages from the write-ahead log into the file at once.
import { sql, SqliteAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  if (sqlite) await sql`pragma secure_delete = on`.execute(db);
  await db.schema.dropTable('outbox').execute();
  if (sqlite) {
    await sql`pragma secure_delete = off`.execute(db);
    // Best effort: a reader holding the log open only delays this to the next automatic checkpoint.
    await sql`pragma wal_checkpoint(truncate)`.execute(db);
  }
  await db.schema
    .createTable('outbox')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('channel', 'text', (column) => column.notNull())
    .addColumn('destination', 'text', (column) => column.notNull())
    .addColumn('purpose', 'text', (column) => column.notNull())
    .addColumn('content_ciphertext', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('expires_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('outbox_created_at').on('outbox').column('created_at').execute();
  await db.schema.createIndex('outbox_expires_at').on('outbox').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('outbox').execute();
  await db.schema
    .createTable('outbox')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('channel', 'text', (column) => column.notNull())
    .addColumn('destination', 'text', (column) => column.notNull())
    .addColumn('subject', 'text')
    .addColumn('body', 'text', (column) => column.notNull())
    .addColumn('purpose', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('expires_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('outbox_created_at').on('outbox').column('created_at').execute();
}
