// A better-sqlite3 statement that reads rows as arrays and turns them into objects in JavaScript.
// better-sqlite3 builds an object row through V8's C++ API one property at a time, which costs
// more than reading the row: a 26-column session-and-user row took 25.5 µs as an object, 17.6 µs
// as an array copied into an object by a loop, and 12.9 µs with a row builder made for the
// statement (docs/benchmarks.md). The builder is one object literal per statement, compiled once
// from the statement's column names — the technique Ajv and fast-json-stringify use — so every
// row of a statement has the same shape and no store goes through a generic keyed lookup. The
// names come from SQLite's description of our own SQL and enter the source only as JSON string
// literals. Rows are what better-sqlite3 would have returned: same keys in the same order, a later
// duplicate column name overriding an earlier one.
import type { Statement } from 'better-sqlite3';
import type { SqliteStatement } from 'kysely';

type RowBuilder = (values: unknown[]) => Record<string, unknown>;

function compileRowBuilder(columns: string[]): RowBuilder {
  // "__proto__" in a literal would set the prototype instead of a key; no query of ours names it.
  if (columns.includes('__proto__')) throw new Error('a result column named __proto__ is not supported');
  const properties = columns.map((column, index) => `${JSON.stringify(column)}: values[${index}]`);
  return new Function('values', `return { ${properties.join(', ')} };`) as RowBuilder;
}

export function arrayRowStatement(statement: Statement): SqliteStatement {
  if (!statement.reader) return statement as unknown as SqliteStatement;
  const toObject = compileRowBuilder(statement.columns().map((column) => column.name));
  const arrays = statement.raw(true);
  return {
    reader: true,
    all: (parameters) => (arrays.all(parameters) as unknown[][]).map(toObject),
    run: (parameters) => arrays.run(parameters),
    *iterate(parameters) {
      for (const values of arrays.iterate(parameters) as IterableIterator<unknown[]>) yield toObject(values);
    },
  };
}
