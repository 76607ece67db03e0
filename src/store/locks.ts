// A named lock held until the end of the current transaction, for the rare work that must happen
// once across every instance (creating the first signing key). PostgreSQL: an advisory lock.
// SQLite: nothing to do — a database file has one writer at a time.
import { PostgresAdapter, sql, type Transaction } from 'kysely';
import type { Database } from './database.js';

export async function lockForTransaction(trx: Transaction<Database>, name: string): Promise<void> {
  if (trx.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`select pg_advisory_xact_lock(hashtext(${name}))`.execute(trx);
  }
}
