// Paged reads in a strict order, each served by an index that matches it on both databases.
// - The revoked-session feed pages on (revoked_at, id): a page boundary inside one millisecond is a
//   cursor, not a wall (RC-04). The index has the columns in that order and the feed's own
//   condition (signed-in sessions only) as its predicate, so SQLite and PostgreSQL answer a page
//   with one index range scan and no sort, and skip pending logins without reading them. It
//   replaces the single-column index of 0005.
// - A person's security events are paged newest first by id (GET /v1/me/events?before=):
//   (user_id, id) serves that without sorting all of that person's events for every page.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('sessions_revoked_feed').on('sessions').columns(['revoked_at', 'id']).where(sql.ref('auth_time'), 'is not', null).execute();
  await db.schema.dropIndex('sessions_revoked_at').execute();
  await db.schema.createIndex('security_events_user_id').on('security_events').columns(['user_id', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('security_events_user_id').execute();
  await db.schema.createIndex('sessions_revoked_at').on('sessions').column('revoked_at').execute();
  await db.schema.dropIndex('sessions_revoked_feed').execute();
}
