import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { arrayRowStatement } from './array-row-statement.js';
import { withStatementCache } from './statement-cache.js';

describe('array-row statements give the rows better-sqlite3 would', () => {
  let sqlite: BetterSqlite3.Database;
  beforeEach(() => {
    sqlite = new BetterSqlite3(':memory:');
    sqlite.exec(`create table t (id text primary key, n integer, big bigint, f real, b blob, absent text);
      insert into t values ('a', 1, 1795986346452, 1.5, x'00ff', null), ('b', 2, -7, 0.25, x'', null);`);
  });
  afterEach(() => sqlite.close());

  const queries: Array<[string, unknown[]]> = [
    ['select * from t order by id', []],
    ['select * from t where id = ?', ['b']],
    ['select id, n, id as n from t order by id', []], // a duplicate name: the later column wins
    ['select count(*) as count from t where n > ?', [0]],
    ['select * from t where id = ?', ['missing']],
    ['select t.*, u.id as u__id from t join t as u on u.n = t.n order by t.id', []],
  ];

  it.each(queries)('%s', (sql, parameters) => {
    const expected = sqlite.prepare(sql).all(...parameters);
    const rows = arrayRowStatement(sqlite.prepare(sql)).all(parameters);
    expect(rows).toEqual(expected);
    expect(rows.map((row) => Object.keys(row as object))).toEqual(expected.map((row) => Object.keys(row as object)));
    expect([...arrayRowStatement(sqlite.prepare(sql)).iterate(parameters)]).toEqual(expected);
  });

  it('a write with RETURNING is a reader and returns its rows; a plain write runs', () => {
    const returning = arrayRowStatement(sqlite.prepare("update t set n = n + 10 where id = ? returning id, n"));
    expect(returning.reader).toBe(true);
    expect(returning.all(['a'])).toEqual([{ id: 'a', n: 11 }]);
    const write = arrayRowStatement(sqlite.prepare('delete from t where id = ?'));
    expect(write.reader).toBe(false);
    expect(write.run(['b']).changes).toBe(1);
  });

  it('column names enter the row builder only as string literals', () => {
    const sql = `select 1 as "a"", b: process.exit(1), c: ""x", 2 as "}; throw new Error(); //"`;
    expect(arrayRowStatement(sqlite.prepare(sql)).all([])).toEqual(sqlite.prepare(sql).all());
    expect(() => arrayRowStatement(sqlite.prepare('select 1 as "__proto__"'))).toThrow(/__proto__/);
  });

  it('the statement cache hands back the same statement for the same SQL and stays bounded', () => {
    const database = withStatementCache(sqlite, 2);
    const first = database.prepare('select 1 as one');
    expect(database.prepare('select 1 as one')).toBe(first);
    database.prepare('select 2 as two');
    database.prepare('select 3 as three'); // evicts the oldest
    expect(database.prepare('select 1 as one')).not.toBe(first);
    expect(database.prepare('select 1 as one').all([])).toEqual([{ one: 1 }]);
  });
});
