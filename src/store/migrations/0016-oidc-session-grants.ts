// Which Twofold session each of the OpenID Provider's grants was made in: when that session ends
// (sign-out, "sign out everywhere", a password change, an admin), its grants are revoked — every
// code, access and refresh token of theirs — and the apps that logged in with it hear it by
// back-channel logout. Kept apart from the provider's own rows: the provider may delete a grant
// itself (its logout endpoint) before Twofold's session ends, and the apps must still be told.
// The id is the grant's; the row expires with the grant, and the upkeep deletes it then.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oidc_session_grants')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('session_id', 'text', (column) => column.notNull())
    .addColumn('client_id', 'text', (column) => column.notNull())
    .addColumn('user_id', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('oidc_session_grants_session_id').on('oidc_session_grants').column('session_id').execute();
  await db.schema.createIndex('oidc_session_grants_expires_at').on('oidc_session_grants').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('oidc_session_grants').execute();
}
