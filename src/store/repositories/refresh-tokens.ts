// Refresh tokens, stored as SHA-256. Each use marks the token used with a compare-and-set; a
// token presented again after that is a reuse, and the flow revokes the family (SS-02) — unless it
// comes within the reuse grace, when the rotation's sealed answer is still on the row (0012).
import { PostgresAdapter, type Insertable } from 'kysely';
import type { Executor, RefreshTokenRow, RefreshTokensTable } from '../database.js';

export async function insertRefreshToken(db: Executor, token: Insertable<RefreshTokensTable>): Promise<void> {
  await db.insertInto('refresh_tokens').values(token).execute();
}

/** Built apart so a test can EXPLAIN it (the unique index on token_hash). */
export function refreshTokenByHashQuery(db: Executor, tokenHash: string) {
  return db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash);
}

export function findRefreshTokenByHash(db: Executor, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  return refreshTokenByHashQuery(db, tokenHash).executeTakeFirst();
}

/**
 * The compare-and-set that spends a token: true for exactly one caller however many race. The
 * winner's sealed answer is written in the same statement, so whoever sees the token used sees
 * the answer too (or, after a wipe, neither).
 */
export async function markRefreshTokenUsed(db: Executor, tokenId: string, now: number, graceAnswerCiphertext: string | null = null): Promise<boolean> {
  const result = await db
    .updateTable('refresh_tokens')
    .set({ used_at: now, grace_answer_ciphertext: graceAnswerCiphertext })
    .where('id', '=', tokenId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export type RefreshTokenUse = Pick<RefreshTokenRow, 'used_at' | 'revoked_at' | 'grace_answer_ciphertext'>;

/** A fresh read of a token's use, after its compare-and-set was lost to another request. */
export function findRefreshTokenUse(db: Executor, tokenId: string): Promise<RefreshTokenUse | undefined> {
  return db.selectFrom('refresh_tokens').select(['used_at', 'revoked_at', 'grace_answer_ciphertext']).where('id', '=', tokenId).executeTakeFirst();
}

/**
 * Wipes every answer whose grace began at or before `usedAtOrBefore`. Both statements use the
 * partial index of 0012; the update (a write, on SQLite the database's one writer) runs only when
 * the read found something. On PostgreSQL rows another transaction holds (a logout revoking the
 * family, which wipes them itself) are skipped, never waited for: a sweep that waited while holding
 * other rows of the family could deadlock with that logout.
 */
export async function wipeGraceAnswersUsedBefore(db: Executor, usedAtOrBefore: number): Promise<number> {
  const expired = () =>
    db.selectFrom('refresh_tokens').select('id').where('grace_answer_ciphertext', 'is not', null).where('used_at', '<=', usedAtOrBefore);
  if ((await expired().limit(1).executeTakeFirst()) === undefined) return 0;
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const result = await db
    .updateTable('refresh_tokens')
    .set({ grace_answer_ciphertext: null })
    .where('id', 'in', postgres ? expired().forUpdate().skipLocked() : expired())
    .where('grace_answer_ciphertext', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
