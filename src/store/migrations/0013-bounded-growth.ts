// Every hot query gets an index in its own order, and every table that grows with time or with
// other people's actions gets the index its cleanup needs (test/store/query-plans.test.ts EXPLAINs
// each query on SQLite and PostgreSQL):
// - sessions: a user's signed-in sessions newest first (GET /v1/sessions, the per-user cap, sign out
//   everywhere) on (user_id, state, created_at, id), which replaces (user_id); the background
//   retirer finds timed-out sessions on expires_at and last_active_at of active (and pending)
//   sessions, the purge long-ended ones on expires_at of revoked ones (partial indexes).
// - security_events: a repeated identical event is one row with a count (repeat_count, last_at);
//   cap_group says which per-user cap a row counts against ('own', 'others', 'routine', or 'kept':
//   never pruned by a cap), and (user_id, cap_group, id) finds the rows beyond a cap.
//   (user_id, created_at) served no query since the trail pages on (user_id, id): dropped.
// - challenges pick the newest open one of a factor and session without a sort; refresh tokens,
//   challenges, password resets and remembered browsers are deleted by expiry in batches;
//   remembered browsers are listed newest first on (user_id, created_at, id); a user's factors in
//   their order on (user_id, created_at, id), which replaces (user_id).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('sessions_user_live').on('sessions').columns(['user_id', 'state', 'created_at', 'id']).execute();
  await db.schema.dropIndex('sessions_user_id').execute();
  // Partial, with the state as a literal that only the upkeep's queries spell out: a user's lists
  // (state = a parameter) can never be drawn to them by a deadline's range (SQLite was).
  const inState = (state: string) => sql<boolean>`state = ${sql.lit(state)}`;
  await db.schema.createIndex('sessions_active_expires').on('sessions').column('expires_at').where(inState('active')).execute();
  await db.schema.createIndex('sessions_active_last_active').on('sessions').column('last_active_at').where(inState('active')).execute();
  await db.schema.createIndex('sessions_pending_expires').on('sessions').column('expires_at').where(inState('pending')).execute();
  await db.schema.createIndex('sessions_revoked_expires').on('sessions').column('expires_at').where(inState('revoked')).execute();

  await db.schema.alterTable('security_events').addColumn('repeat_count', 'integer', (column) => column.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('security_events').addColumn('last_at', 'bigint').execute();
  await db.schema.alterTable('security_events').addColumn('cap_group', 'text', (column) => column.notNull().defaultTo('own')).execute();
  // Rows written before this migration: the same groups new rows get (src/flows/shared/security-events.ts).
  await sql`update security_events set cap_group = 'others' where type in ('login.password_failed', 'login.throttled', 'password.reset_requested', 'password.reset_failed', 'notification.failed')`.execute(db);
  await sql`update security_events set cap_group = 'routine' where type in ('token.refreshed')`.execute(db);
  await sql`update security_events set cap_group = 'kept' where type in ('user.registered', 'password.changed', 'password.reset', 'factor.enrolled', 'factor.activated', 'factor.removed', 'recovery_codes.issued', 'recovery_code.used', 'account.locked', 'account.unlocked', 'admin.account_unlocked', 'admin.factors_reset', 'trusted_device.added', 'token.refresh_reuse_detected', 'signing_key.rotated', 'encryption_key.rotated')`.execute(db);
  await db.schema.createIndex('security_events_user_cap').on('security_events').columns(['user_id', 'cap_group', 'id']).execute();
  // Events about nobody (an unknown name, a throttled address) are one bucket with its own cap: an
  // IS NULL does not order an index on PostgreSQL the way an equality does, so they get their own.
  await db.schema.createIndex('security_events_nobody_cap').on('security_events').columns(['cap_group', 'id']).where(sql.ref('user_id'), 'is', null).execute();
  await db.schema.dropIndex('security_events_user_created').execute();

  await db.schema.createIndex('challenges_factor_session_created').on('challenges').columns(['factor_id', 'session_id', 'created_at']).execute();
  await db.schema.dropIndex('challenges_factor_session').execute();
  await db.schema.createIndex('challenges_expires_at').on('challenges').column('expires_at').execute();
  await db.schema.createIndex('challenges_session_id').on('challenges').column('session_id').execute();
  await db.schema.createIndex('refresh_tokens_expires_at').on('refresh_tokens').column('expires_at').execute();
  // password_resets_expires_at: made by 0008, which rebuilt the table.
  await db.schema.createIndex('trusted_devices_user_created').on('trusted_devices').columns(['user_id', 'created_at', 'id']).execute();
  await db.schema.dropIndex('trusted_devices_user_id').execute();
  await db.schema.createIndex('trusted_devices_expires_at').on('trusted_devices').column('expires_at').execute();
  await db.schema.createIndex('factors_session_id').on('factors').column('session_id').execute();
  await db.schema.createIndex('factors_user_created').on('factors').columns(['user_id', 'created_at', 'id']).execute();
  await db.schema.dropIndex('factors_user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('factors_user_id').on('factors').column('user_id').execute();
  await db.schema.dropIndex('factors_user_created').execute();
  await db.schema.dropIndex('factors_session_id').execute();
  await db.schema.dropIndex('trusted_devices_expires_at').execute();
  await db.schema.createIndex('trusted_devices_user_id').on('trusted_devices').column('user_id').execute();
  await db.schema.dropIndex('trusted_devices_user_created').execute();
  await db.schema.dropIndex('refresh_tokens_expires_at').execute();
  await db.schema.dropIndex('challenges_session_id').execute();
  await db.schema.dropIndex('challenges_expires_at').execute();
  await db.schema.createIndex('challenges_factor_session').on('challenges').columns(['factor_id', 'session_id']).execute();
  await db.schema.dropIndex('challenges_factor_session_created').execute();
  await db.schema.createIndex('security_events_user_created').on('security_events').columns(['user_id', 'created_at']).execute();
  await db.schema.dropIndex('security_events_nobody_cap').execute();
  await db.schema.dropIndex('security_events_user_cap').execute();
  await db.schema.alterTable('security_events').dropColumn('cap_group').execute();
  await db.schema.alterTable('security_events').dropColumn('last_at').execute();
  await db.schema.alterTable('security_events').dropColumn('repeat_count').execute();
  for (const index of ['sessions_revoked_expires', 'sessions_pending_expires', 'sessions_active_last_active', 'sessions_active_expires']) await db.schema.dropIndex(index).execute();
  await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute();
  await db.schema.dropIndex('sessions_user_live').execute();
}
