// Forward-auth cookies: each is an opaque 256-bit token for one protected parent
// domain, stored as its SHA-256 only, standing for a Twofold session — so it ends with that
// session (sign-out, "sign out everywhere", idle and absolute limits, an admin's revocation).
// The domain is kept so a cookie set for one domain is refused on a host of another. The rows go
// with their session's row (the upkeep deletes long-ended sessions), so the table stays bounded.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('forward_auth_sessions')
    .addColumn('token_hash', 'text', (column) => column.primaryKey())
    .addColumn('session_id', 'text', (column) => column.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('domain', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('forward_auth_sessions_session_id').on('forward_auth_sessions').column('session_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('forward_auth_sessions').execute();
}
