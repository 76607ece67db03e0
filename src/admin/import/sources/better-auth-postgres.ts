// Better Auth on PostgreSQL: the import reads its database directly (a `postgres://` URL instead of
// a file), read-only, in pages of users by id — bounded memory for any number of people — with
// each page's credential accounts and twoFactor rows in one query each. The rows become records
// exactly as the SQLite file's do (better-auth.ts). Better Auth keeps its tables in the
// connection's search path; a schema of its own is named in the URL the way node-postgres takes
// it (`?options=-c%20search_path%3Dauth`).
import pg from 'pg';
import { refuse, toSourceRecord, type SourceRecord } from '../import-record.js';
import { betterAuthRecord, type BetterAuthOptions } from './better-auth.js';

const pageSize = 500;

/** The id types Better Auth generates (its default text ids, or a database's uuid or serial). */
const idTypes: Record<string, string> = { text: 'text', 'character varying': 'text', uuid: 'uuid', integer: 'integer', bigint: 'bigint' };

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

async function openReadOnly(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    // Nothing this reader does writes; the session says so, too.
    await client.query('set session characteristics as transaction read only');
    return client;
  } catch (error) {
    await client.end();
    throw error;
  }
}

export async function countBetterAuthPostgresUsers(url: string): Promise<number> {
  const client = await openReadOnly(url);
  try {
    return Number((await client.query<{ n: string }>('select count(*) as n from "user"')).rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

function byUser(rows: ReadonlyArray<Record<string, unknown>>): Map<string, Array<Record<string, unknown>>> {
  const grouped = new Map<string, Array<Record<string, unknown>>>();
  for (const row of rows) grouped.set(String(row['userId']), [...(grouped.get(String(row['userId'])) ?? []), row]);
  return grouped;
}

export async function* readBetterAuthPostgresUsers(url: string, options: BetterAuthOptions): AsyncGenerator<SourceRecord> {
  const client = await openReadOnly(url);
  try {
    const columns = await client.query<{ column_name: string; data_type: string }>('select column_name, data_type from information_schema.columns where table_schema = current_schema() and table_name = $1', ['user']);
    const userColumns = new Set(columns.rows.map((row) => row.column_name));
    const idType = idTypes[columns.rows.find((row) => row.column_name === 'id')?.data_type ?? ''];
    if (idType === undefined) {
      yield toSourceRecord(1, null, () => refuse('malformed_record', 'the database has no Better Auth "user" table with an id of a type Better Auth generates'));
      return;
    }
    const hasTwoFactor = (await client.query<{ found: boolean }>('select to_regclass(\'"twoFactor"\') is not null as found')).rows[0]?.found === true;
    let position = 0;
    let after: unknown = null;
    for (;;) {
      const users: Array<Record<string, unknown>> = (await client.query(`select * from "user" where $1::${idType} is null or id > $1::${idType} order by id limit $2`, [after, pageSize])).rows;
      if (users.length === 0) return;
      const ids = users.map((user) => user['id']);
      const credentials = byUser((await client.query('select "userId", password from account where "providerId" = \'credential\' and "userId" = any($1)', [ids])).rows);
      const twoFactors = hasTwoFactor ? byUser((await client.query('select * from "twoFactor" where "userId" = any($1)', [ids])).rows) : new Map<string, Array<Record<string, unknown>>>();
      for (const user of users) {
        position += 1;
        const id = String(user['id']);
        yield betterAuthRecord(position, { user: { ...user, id }, credential: credentials.get(id)?.[0], twoFactors: twoFactors.get(id) ?? [] }, userColumns, options);
      }
      after = users.at(-1)?.['id'];
      if (users.length < pageSize) return;
    }
  } finally {
    await client.end();
  }
}
