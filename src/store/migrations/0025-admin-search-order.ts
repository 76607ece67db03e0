// A username-or-e-mail search walks its prefix index in that index's order and stops when the
// page is full, instead of collecting every match and sorting it by id: a short prefix can match
// thousands of people (every address at one company starts alike) and a page then cost all of
// them. The keys are compared bytewise on both dialects (PostgreSQL: COLLATE "C", which a
// LIKE-free range and ORDER BY use directly; SQLite: its BINARY default), so a cursor means the
// same thing everywhere:
// - username: unique, so it alone is the keyset (SQLite's unique index already is that index);
// - lower(e-mail), id: addresses may repeat across accounts, so id breaks ties.
// These replace migration 0023's text_pattern_ops prefix indexes, which only a LIKE could use; the
// phone suffix index becomes a plain one on its C-collated column for the same reason.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  if (postgres) {
    await sql`create index users_username_order on users ((username collate "C"))`.execute(db);
    await sql`create index users_email_order on users ((lower(email) collate "C"), id)`.execute(db);
    await db.schema.dropIndex('users_username_prefix').execute();
    await db.schema.dropIndex('users_phone_suffix').execute();
    await db.schema.createIndex('users_phone_suffix').on('users').column('phone_reversed').execute();
  } else {
    await sql`create index users_email_order on users (lower(email), id)`.execute(db);
  }
  await db.schema.dropIndex('users_email_prefix').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  if (postgres) {
    await sql`create index users_username_prefix on users (username text_pattern_ops)`.execute(db);
    await sql`create index users_email_prefix on users (lower(email) text_pattern_ops)`.execute(db);
    await db.schema.dropIndex('users_username_order').execute();
    await db.schema.dropIndex('users_phone_suffix').execute();
    await sql`create index users_phone_suffix on users (phone_reversed text_pattern_ops)`.execute(db);
  } else {
    await sql`create index users_email_prefix on users (lower(email))`.execute(db);
  }
  await db.schema.dropIndex('users_email_order').execute();
}
