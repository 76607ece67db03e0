// Hot read queries (every authenticated request runs several) compiled once per database instead
// of rebuilt by Kysely's query builder on each call: under load, building the query cost more than
// SQLite took to run it. The builder runs once with stand-in values to get the dialect's SQL;
// later calls send that SQL with the real parameters, in the order the builder placed them.
import { CompiledQuery, type Compilable } from 'kysely';
import type { Executor } from './database.js';

export type PreparedQuery<Row> = (db: Executor, parameters: readonly unknown[]) => Promise<Row[]>;

export function prepareQuery<Row>(build: (db: Executor) => Compilable<Row>): PreparedQuery<Row> {
  const sqlByDatabase = new WeakMap<Executor, string>();
  return async (db, parameters) => {
    let sql = sqlByDatabase.get(db);
    if (sql === undefined) {
      sql = build(db).compile().sql;
      // A transaction is a new object each time: compiling for it every call would gain nothing.
      if (!db.isTransaction) sqlByDatabase.set(db, sql);
    }
    return (await db.executeQuery(CompiledQuery.raw(sql, [...parameters]))).rows as Row[];
  };
}
