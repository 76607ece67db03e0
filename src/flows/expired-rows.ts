// Rows that can never be used again once expired, pruned with the audit trail (at start-up and
// twice a day) so that requests anyone can make — anonymously, or with a free account — cannot
// grow these tables for ever: reset rows (one per username asked about, most for names nobody has,
// written alike so that "forgot password" tells nothing), verification links, challenges (a
// passkey challenge needs no send, so no send budget bounds it) and pending logins whose
// mfa_token has died (each successful password step writes one).
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { deleteExpiredEmailVerifications } from '../store/repositories/email-verifications.js';
import { deleteExpiredPasswordResets } from '../store/repositories/password-resets.js';

export interface PrunedRows {
  passwordResets: number;
  emailVerifications: number;
  challenges: number;
  pendingSessions: number;
}

export async function pruneExpiredRows(ctx: { db: Kysely<Database>; now(): number }): Promise<PrunedRows> {
  const now = ctx.now();
  const passwordResets = await deleteExpiredPasswordResets(ctx.db, now);
  const emailVerifications = await deleteExpiredEmailVerifications(ctx.db, now);
  const challenges = Number((await ctx.db.deleteFrom('challenges').where('expires_at', '<', now).executeTakeFirst()).numDeletedRows);
  // Their challenges go with them (ON DELETE CASCADE); an mfa_token naming one is refused as before.
  const pendingSessions = Number((await ctx.db.deleteFrom('sessions').where('state', '=', 'pending').where('expires_at', '<', now).executeTakeFirst()).numDeletedRows);
  return { passwordResets, emailVerifications, challenges, pendingSessions };
}
