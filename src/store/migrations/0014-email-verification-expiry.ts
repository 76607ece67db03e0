// Verification links expire like the other short-lived rows: the background upkeep deletes them
// in batches of the oldest, which this index answers as a range (never a scan of the table).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('email_verifications_expires_at').on('email_verifications').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('email_verifications_expires_at').execute();
}
