// A long-lived write transaction (an import batch) that another process writing to the same
// database waits for instead of failing. SQLite's BEGIN is deferred: the write lock is taken at
// the first write, and a transaction that has already read when it finds another process holding
// that lock gets SQLITE_BUSY at once — SQLite does not wait there, since waiting could deadlock
// two readers that both want to write. A write as the transaction's first statement (one that
// touches no row) takes the lock before anything is read, so SQLite waits for it (busy_timeout)
// and every later read sees what the other process committed. On PostgreSQL the same statement
// locks no row and waits for nobody: concurrent writers meet on the unique indexes instead.
import { sql, type ControlledTransaction, type Kysely } from 'kysely';
import type { Database } from './database.js';

/** SQLite gives up after busy_timeout (5 s); another import may hold the lock batch after batch. */
const lockWaitMs = 120_000;

export async function startWriteTransaction(db: Kysely<Database>, wait = lockWaitMs): Promise<ControlledTransaction<Database>> {
  const deadline = Date.now() + wait;
  for (;;) {
    const trx = await db.startTransaction().execute();
    try {
      // Deletes nothing (any table would do; the import ledger is the one the batches write).
      await trx.deleteFrom('imported_users').where(sql<boolean>`1 = 0`).execute();
      return trx;
    } catch (error) {
      await trx.rollback().execute();
      if (!isSqliteBusy(error) || Date.now() >= deadline) throw error;
    }
  }
}

function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
