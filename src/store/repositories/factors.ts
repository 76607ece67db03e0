// Second factors. The two compare-and-set updates here are the replay defence for TOTP:
// a step is claimed only if it is later than every step claimed before (OT-04).
import type { Insertable } from 'kysely';
import type { Executor, FactorRow, FactorStatus, FactorsTable, FactorType } from '../database.js';
import { prepareQuery } from '../prepared-query.js';

export async function insertFactor(db: Executor, factor: Insertable<FactorsTable>): Promise<void> {
  await db.insertInto('factors').values(factor).execute();
}

export function findFactor(db: Executor, factorId: string): Promise<FactorRow | undefined> {
  return db.selectFrom('factors').selectAll().where('id', '=', factorId).executeTakeFirst();
}

/** Exported for its EXPLAIN: read along factors_user_created, no sort. */
export const factorsOfUserQuery = (db: Executor) => db.selectFrom('factors').selectAll().where('user_id', '=', '?').orderBy('created_at').orderBy('id');
const factorsOfUser = prepareQuery<FactorRow>(factorsOfUserQuery);
const factorsOfUserWithStatus = prepareQuery<FactorRow>((db) =>
  db.selectFrom('factors').selectAll().where('user_id', '=', '?').where('status', '=', 'active').orderBy('created_at').orderBy('id'),
);

export function listFactorsOfUser(db: Executor, userId: string, status?: FactorStatus): Promise<FactorRow[]> {
  return status === undefined ? factorsOfUser(db, [userId]) : factorsOfUserWithStatus(db, [userId, status]);
}

export async function deletePendingFactors(db: Executor, userId: string, type: FactorType): Promise<void> {
  await db.deleteFrom('factors').where('user_id', '=', userId).where('type', '=', type).where('status', '=', 'pending').execute();
}

export async function deleteFactorsOfUser(db: Executor, userId: string): Promise<number> {
  const result = await db.deleteFrom('factors').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Activates a pending factor and claims the step its confirmation code matched, in one update. */
export async function activateFactor(db: Executor, factorId: string, step: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('factors')
    .set({ status: 'active', activated_at: now, last_used_step: step, last_used_at: now })
    .where('id', '=', factorId)
    .where('status', '=', 'pending')
    .where('last_used_step', '<', step)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Claims a TOTP step on an active factor; false when this or a later step was already used. */
export async function claimTotpStep(db: Executor, factorId: string, step: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('factors')
    .set({ last_used_step: step, last_used_at: now })
    .where('id', '=', factorId)
    .where('status', '=', 'active')
    .where('last_used_step', '<', step)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function renameFactor(db: Executor, factorId: string, label: string | null): Promise<void> {
  await db.updateTable('factors').set({ label }).where('id', '=', factorId).execute();
}

/** Deletes a factor still in the status the caller checked its permission for (pending ≠ active). */
export async function deleteFactor(db: Executor, factorId: string, status: FactorStatus): Promise<boolean> {
  const result = await db.deleteFrom('factors').where('id', '=', factorId).where('status', '=', status).executeTakeFirst();
  return result.numDeletedRows === 1n;
}

/** Marks an SMS / e-mail / passkey factor active (their proofs are claimed elsewhere). */
export async function activatePendingFactor(db: Executor, factorId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('factors')
    .set({ status: 'active', activated_at: now, last_used_at: now })
    .where('id', '=', factorId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function touchFactor(db: Executor, factorId: string, now: number): Promise<void> {
  await db.updateTable('factors').set({ last_used_at: now }).where('id', '=', factorId).execute();
}
