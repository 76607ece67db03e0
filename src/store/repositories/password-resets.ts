// Password reset codes, stored as HMACs, one row per username asked about: a new request replaces
// the row of that name (an upsert — the same statement whether an account has the name or not),
// and a code is consumed with a compare-and-set, so it works once (MG-02).
import type { Insertable } from 'kysely';
import type { Executor, PasswordResetRow, PasswordResetsTable } from '../database.js';

/** The open reset of this name, whatever it was, is replaced: the previous code dies. */
export async function upsertPasswordReset(db: Executor, reset: Insertable<PasswordResetsTable>): Promise<void> {
  await db
    .insertInto('password_resets')
    .values(reset)
    .onConflict((conflict) =>
      conflict.column('account_hash').doUpdateSet({
        id: reset.id,
        user_id: reset.user_id ?? null,
        code_hash: reset.code_hash,
        attempts: 0,
        created_at: reset.created_at,
        expires_at: reset.expires_at,
        used_at: null,
      }),
    )
    .execute();
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

/** Rows whose code expired (most are names nobody has): they can never reset anything. */
export async function deleteExpiredPasswordResets(db: Executor, before: number): Promise<number> {
  const result = await db.deleteFrom('password_resets').where('expires_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
