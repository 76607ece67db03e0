// The admin API:
// - user_roles: who may use /v1/admin (admin: everything; support: read only). A row per role, so
//   granting twice is a no-op and a grant names who gave it.
// - users.last_sign_in_at: set when a sign-in completes (an admin searches by it).
// - users.delete_after: an admin's deletion waits this long (TWOFOLD_ADMIN_DELETE_GRACE_DAYS); the
//   account is disabled meanwhile (disabled_at) and the upkeep deletes it after.
// - users.password_reset_required_at: an admin forced a password reset; the password no longer
//   signs in until the owner resets it.
// - Search indexes: username prefix (the unique index already orders it), lower(e-mail) prefix,
//   phone suffix (the phone reversed, as a column the dialect keeps: a range on it is a suffix
//   search), created_at, last_sign_in_at. PostgreSQL gets `text_pattern_ops` (C-order) indexes so a
//   LIKE 'prefix%' uses them whatever the database's collation.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

/** The phone's characters backwards, from built-in functions both dialects have (E.164: ≤ 16 chars). */
export const reversedPhoneExpression = Array.from({ length: 16 }, (_, index) => `substr(phone, ${16 - index}, 1)`).join(' || ');

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('user_roles')
    .addColumn('user_id', 'text', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (column) => column.notNull())
    .addColumn('granted_at', 'bigint', (column) => column.notNull())
    /** The admin's user id, or "cli:<operator>" for the command line. */
    .addColumn('granted_by', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role'])
    .execute();
  await db.schema.alterTable('users').addColumn('last_sign_in_at', 'bigint').execute();
  await db.schema.alterTable('users').addColumn('delete_after', 'bigint').execute();
  await db.schema.alterTable('users').addColumn('password_reset_required_at', 'bigint').execute();
  // A generated column: every write of `phone` keeps it right, on both dialects, with no code.
  if (postgres) {
    await sql`alter table users add column phone_reversed text collate "C" generated always as (${sql.raw(reversedPhoneExpression)}) stored`.execute(db);
    await sql`create index users_username_prefix on users (username text_pattern_ops)`.execute(db);
    await sql`create index users_email_prefix on users (lower(email) text_pattern_ops)`.execute(db);
    await sql`create index users_phone_suffix on users (phone_reversed text_pattern_ops)`.execute(db);
  } else {
    // SQLite adds only VIRTUAL generated columns to an existing table; indexing it stores the values.
    await sql`alter table users add column phone_reversed text generated always as (${sql.raw(reversedPhoneExpression)}) virtual`.execute(db);
    await sql`create index users_email_prefix on users (lower(email))`.execute(db);
    await db.schema.createIndex('users_phone_suffix').on('users').column('phone_reversed').execute();
  }
  await db.schema.createIndex('users_created_at').on('users').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('users_last_sign_in_at').on('users').columns(['last_sign_in_at', 'id']).execute();
  // The upkeep's sweep: only accounts waiting for deletion are in it.
  await db.schema.createIndex('users_delete_after').on('users').column('delete_after').where(sql.ref('delete_after'), 'is not', null).execute();
  // "locked" filters walk only the locked accounts.
  await db.schema.createIndex('users_locked').on('users').column('id').where(sql.ref('locked_at'), 'is not', null).execute();
  await db.schema.createIndex('user_roles_role').on('user_roles').columns(['role', 'user_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  for (const index of ['users_locked', 'users_delete_after', 'users_last_sign_in_at', 'users_created_at', 'users_phone_suffix', 'users_email_prefix']) {
    await db.schema.dropIndex(index).execute();
  }
  if (postgres) await db.schema.dropIndex('users_username_prefix').execute();
  for (const column of ['phone_reversed', 'password_reset_required_at', 'delete_after', 'last_sign_in_at']) {
    await db.schema.alterTable('users').dropColumn(column).execute();
  }
  await db.schema.dropTable('user_roles').execute();
}
