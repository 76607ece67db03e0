// Logins started before a credential change end with it (RC-03), and a pending factor can be
// confirmed only by the session that started it. The user row records when its password or its
// set of factors last changed; a pending session records that value as its password step saw it
// (a login is void once the two differ); a factor records the session that started enrolling it.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('credentials_changed_at', 'bigint').execute();
  await db.schema.alterTable('sessions').addColumn('credentials_changed_at', 'bigint').execute();
  // Older pending factors keep null: with no session to match, they cannot be confirmed (started again).
  await db.schema
    .alterTable('factors')
    .addColumn('session_id', 'text', (column) => column.references('sessions.id').onDelete('set null'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('factors').dropColumn('session_id').execute();
  await db.schema.alterTable('sessions').dropColumn('credentials_changed_at').execute();
  await db.schema.alterTable('users').dropColumn('credentials_changed_at').execute();
}
