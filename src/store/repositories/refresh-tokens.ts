// Refresh tokens, stored as SHA-256. Each use marks the token used with a compare-and-set; a
// token presented again after that is a reuse, and the flow revokes the family (SS-02).
import type { Insertable } from 'kysely';
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

export async function markRefreshTokenUsed(db: Executor, tokenId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('refresh_tokens')
    .set({ used_at: now })
    .where('id', '=', tokenId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
