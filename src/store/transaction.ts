// Transactions for flows. On PostgreSQL two transactions can deadlock or, under stricter
// isolation, conflict; the database aborts one, and running it again is the documented remedy.
// Every flow transaction is safe to re-run: its compare-and-set updates decide anew.
import type { Kysely, Transaction } from 'kysely';
import { isTransactionConflict } from './connect.js';
import type { Database } from './database.js';

const maxAttempts = 3;

export async function runTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      if (attempt >= maxAttempts || !isTransactionConflict(error)) throw error;
    }
  }
}
