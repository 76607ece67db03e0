// Recovery codes, stored only as HMACs. Consumption is a single conditional update, so one
// code raced many times succeeds exactly once (RC-02/04).
import type { Executor } from '../database.js';
import { prepareQuery } from '../prepared-query.js';

/** Old codes die when new ones are issued. */
export async function replaceRecoveryCodes(
  db: Executor,
  userId: string,
  codes: ReadonlyArray<{ id: string; codeHash: string }>,
  now: number,
): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (codes.length === 0) return;
  await db
    .insertInto('recovery_codes')
    .values(codes.map((code) => ({ id: code.id, user_id: userId, code_hash: code.codeHash, created_at: now, used_at: null })))
    .execute();
}

export async function consumeRecoveryCode(db: Executor, userId: string, codeHash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('recovery_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

const unusedRecoveryCodeCount = prepareQuery<{ count: number | string }>((db) =>
  db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('user_id', '=', '?')
    .where('used_at', 'is', null),
);

export async function countUnusedRecoveryCodes(db: Executor, userId: string): Promise<number> {
  const [row] = await unusedRecoveryCodeCount(db, [userId]);
  return Number(row?.count ?? 0);
}

export async function deleteRecoveryCodesOfUser(db: Executor, userId: string): Promise<number> {
  const result = await db.deleteFrom('recovery_codes').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
