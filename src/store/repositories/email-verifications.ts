// E-mail verification links: stored as SHA-256 of their token, bound to the user and the address
// they were sent to; a new link replaces the user's open ones, and one is consumed with a
// compare-and-set, so it works once — together with the address it names, in one transaction.
import type { Insertable } from 'kysely';
import type { EmailVerificationRow, EmailVerificationsTable, Executor } from '../database.js';

export async function replaceEmailVerification(db: Executor, verification: Insertable<EmailVerificationsTable>): Promise<void> {
  await db.deleteFrom('email_verifications').where('user_id', '=', verification.user_id).where('used_at', 'is', null).execute();
  await db.insertInto('email_verifications').values(verification).execute();
}

export function findEmailVerificationByHash(db: Executor, tokenHash: string): Promise<EmailVerificationRow | undefined> {
  return db.selectFrom('email_verifications').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function consumeEmailVerification(db: Executor, id: string, now: number): Promise<boolean> {
  const result = await db.updateTable('email_verifications').set({ used_at: now }).where('id', '=', id).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Marks the address verified — only while the account still has exactly this address. */
export async function markEmailVerified(db: Executor, userId: string, email: string, now: number): Promise<boolean> {
  const result = await db.updateTable('users').set({ email_verified_at: now }).where('id', '=', userId).where('email', '=', email).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** A new address starts unverified, and the links sent to the old one die with it. */
export async function changeEmail(db: Executor, userId: string, email: string | null, now: number): Promise<void> {
  await db.updateTable('users').set({ email, email_verified_at: null, updated_at: now }).where('id', '=', userId).execute();
  await db.deleteFrom('email_verifications').where('user_id', '=', userId).where('used_at', 'is', null).execute();
}

export async function deleteExpiredEmailVerifications(db: Executor, before: number): Promise<number> {
  const result = await db.deleteFrom('email_verifications').where('expires_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
