// A better-sqlite3 statement that reads rows as arrays and turns them into objects in JavaScript.
// better-sqlite3 builds an object row through V8's C++ API one property at a time, which costs
// more than reading the row: a 16-column session row took 14.7 µs as an object and 9.9 µs as an
// array plus this loop (docs/benchmarks.md). Assigning the columns in the same order every time
// gives every row of a statement the same hidden class. Rows are what better-sqlite3 would have
// returned: same keys in the same order, a later duplicate column name overriding an earlier one.
import type { Statement } from 'better-sqlite3';
import type { SqliteStatement } from 'kysely';

export function arrayRowStatement(statement: Statement): SqliteStatement {
  if (!statement.reader) return statement as unknown as SqliteStatement;
  const columns = statement.columns().map((column) => column.name);
  const arrays = statement.raw(true);
  const toObject = (values: unknown[]): Record<string, unknown> => {
    const row: Record<string, unknown> = {};
    for (let index = 0; index < columns.length; index += 1) row[columns[index]!] = values[index];
    return row;
  };
  return {
    reader: true,
    all: (parameters) => (arrays.all(parameters) as unknown[][]).map(toObject),
    run: (parameters) => arrays.run(parameters),
    *iterate(parameters) {
      for (const values of arrays.iterate(parameters) as IterableIterator<unknown[]>) yield toObject(values);
    },
  };
}
