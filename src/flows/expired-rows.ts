// Rows that can never be used again once expired: reset rows (most are for names nobody has, one
// per name asked about — written alike so that "forgot password" tells nothing) and verification
// links. Pruned with the audit trail, so anonymous requests cannot grow these tables for ever.
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { deleteExpiredEmailVerifications } from '../store/repositories/email-verifications.js';
import { deleteExpiredPasswordResets } from '../store/repositories/password-resets.js';

export async function pruneExpiredRows(ctx: { db: Kysely<Database>; now(): number }): Promise<number> {
  const now = ctx.now();
  return (await deleteExpiredPasswordResets(ctx.db, now)) + (await deleteExpiredEmailVerifications(ctx.db, now));
}
