// Password reset codes, stored as HMACs; a new request replaces the user's open one, and a code
// is consumed with a compare-and-set, so it works once (MG-02).
import type { Insertable } from 'kysely';
import type { Executor, PasswordResetRow, PasswordResetsTable } from '../database.js';

export async function replacePasswordReset(db: Executor, reset: Insertable<PasswordResetsTable>): Promise<void> {
  await db.deleteFrom('password_resets').where('user_id', '=', reset.user_id).where('used_at', 'is', null).execute();
  await db.insertInto('password_resets').values(reset).execute();
}

export function findPasswordResetByHash(db: Executor, codeHash: string): Promise<PasswordResetRow | undefined> {
  return db.selectFrom('password_resets').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
}

export async function spendPasswordResetAttempt(db: Executor, userId: string, maxAttempts: number, now: number): Promise<number | undefined> {
  const row = await db
    .updateTable('password_resets')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .where('attempts', '<', maxAttempts)
    .returning('attempts')
    .executeTakeFirst();
  return row?.attempts;
}

export async function consumePasswordReset(db: Executor, resetId: string, now: number): Promise<boolean> {
  const result = await db.updateTable('password_resets').set({ used_at: now }).where('id', '=', resetId).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** A credential change voids the user's open reset code (except the one being used for it). */
export async function voidOpenPasswordResets(db: Executor, userId: string, now: number, exceptId?: string): Promise<number> {
  let query = db.updateTable('password_resets').set({ expires_at: now }).where('user_id', '=', userId).where('used_at', 'is', null).where('expires_at', '>', now);
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
