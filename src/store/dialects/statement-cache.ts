// Kysely's SQLite driver prepares every statement it runs; better-sqlite3 compiles SQL on each
// prepare. The queries come from a small set of shapes, so compiled statements are kept per SQL
// text and reused. better-sqlite3 runs statements synchronously, so one statement is never used
// by two queries at once. The bound is a safety net, not a working set (the shapes number in the
// dozens): past it the oldest statement goes, and a hit is a single Map lookup — reordering a Map
// on every hit leaves holes that V8 reclaims by rehashing the whole table.
import type { Database as BetterSqlite3Database } from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { arrayRowStatement } from './array-row-statement.js';

export function withStatementCache(sqlite: BetterSqlite3Database, maxStatements = 500): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare(sql) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = arrayRowStatement(sqlite.prepare(sql));
        if (statements.size >= maxStatements) statements.delete(statements.keys().next().value as string);
        statements.set(sql, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      sqlite.close();
    },
  };
}
