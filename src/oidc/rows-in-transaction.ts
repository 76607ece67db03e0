// The provider's durable rows written inside a transaction of Twofold's: a request that saves a
// provider row (through the adapter, which the provider calls itself) and rows of Twofold's own
// can commit them together — one disk flush (an fsync on SQLite, a commit on PostgreSQL) instead
// of one per row, and never one without the other. The adapter writes through the transaction
// the work runs in (an AsyncLocalStorage: the provider's calls into the adapter carry no context).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely } from 'kysely';
import type { Database, Executor } from '../store/database.js';
import { runTransaction } from '../store/transaction.js';

const ambientTransaction = new AsyncLocalStorage<Executor>();

/** Runs `work` in one transaction; the provider rows it saves through the adapter are written in it too. */
export function withProviderRowsInTransaction<T>(db: Kysely<Database>, work: (trx: Executor) => Promise<T>): Promise<T> {
  return runTransaction(db, (trx) => ambientTransaction.run(trx, () => work(trx)));
}

/** Where the adapter writes: the transaction the caller runs in, or the database. */
export function providerRowsExecutor(db: Kysely<Database>): Executor {
  return ambientTransaction.getStore() ?? db;
}
