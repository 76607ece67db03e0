// The import ledger (migration 0024): one row per source user an import brought in.
import type { Executor } from '../database.js';

export async function findImportedUser(db: Executor, source: string, sourceId: string): Promise<{ user_id: string } | undefined> {
  return db.selectFrom('imported_users').select('user_id').where('source', '=', source).where('source_id', '=', sourceId).executeTakeFirst();
}

export async function insertImportedUser(db: Executor, row: { source: string; source_id: string; user_id: string; imported_at: number }): Promise<void> {
  await db.insertInto('imported_users').values(row).execute();
}
