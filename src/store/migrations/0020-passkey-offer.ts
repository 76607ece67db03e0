// users.passkey_offer_dismissed_at: when the person answered "Not now" to the offer of a passkey
// that signs in alone (the hosted pages make it after a password sign-in). Kept on the user, not in
// the short-lived store, so that a restart or a full Redis does not bring the offer back early.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('passkey_offer_dismissed_at', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('passkey_offer_dismissed_at').execute();
}
