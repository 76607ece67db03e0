// The import ledger: which user of which source system (`twofold import --from <source>`) became
// which Twofold user. Re-running an import finds the source id here and skips the person instead
// of making a second account (idempotent re-runs). A row goes with its user.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('imported_users')
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('source_id', 'text', (column) => column.notNull())
    .addColumn('user_id', 'text', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('imported_at', 'bigint', (column) => column.notNull())
    .addPrimaryKeyConstraint('imported_users_pkey', ['source', 'source_id'])
    .execute();
  await db.schema.createIndex('imported_users_user_id').on('imported_users').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('imported_users').execute();
}
