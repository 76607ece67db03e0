// Kysely's SQLite driver prepares every statement it runs; better-sqlite3 compiles SQL on each
// prepare. The queries come from a small set of shapes, so compiled statements are kept per SQL
// text (bounded LRU) and reused. better-sqlite3 runs statements synchronously, so one statement
// is never used by two queries at once.
import type { Database as BetterSqlite3Database, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

export function withStatementCache(sqlite: BetterSqlite3Database, maxStatements = 500): SqliteDatabase {
  const statements = new Map<string, Statement>();
  return {
    prepare(sql) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = sqlite.prepare(sql);
        if (statements.size >= maxStatements) statements.delete(statements.keys().next().value as string);
      } else {
        statements.delete(sql); // re-inserted below: the most recently used goes last
      }
      statements.set(sql, statement);
      return statement;
    },
    close() {
      statements.clear();
      sqlite.close();
    },
  };
}
