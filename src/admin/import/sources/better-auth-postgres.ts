// Better Auth on PostgreSQL, read through node-postgres (better-auth-database.ts reads the pages).
// Better Auth keeps its tables in the connection's search path; a schema of its own is named in
// the URL the way node-postgres takes it (`?options=-c%20search_path%3Dauth`), and a password
// comes from PGPASSWORD when the URL has none.
import pg from 'pg';
import type { BetterAuthConnection } from './better-auth-database.js';

/** The id types Better Auth generates (its default text ids, or a database's uuid or serial). */
const idTypes: Record<string, string> = { text: 'text', 'character varying': 'text', uuid: 'uuid', integer: 'integer', bigint: 'bigint' };

export async function openBetterAuthPostgres(url: string): Promise<BetterAuthConnection> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    // Nothing this reader does writes; the session says so, too.
    await client.query('set session characteristics as transaction read only');
  } catch (error) {
    await client.end();
    throw error;
  }
  let idType: string | undefined;
  return {
    async userColumns() {
      const columns = await client.query<{ column_name: string; data_type: string }>('select column_name, data_type from information_schema.columns where table_schema = current_schema() and table_name = $1', ['user']);
      idType = idTypes[columns.rows.find((row) => row.column_name === 'id')?.data_type ?? ''];
      return { names: new Set(columns.rows.map((row) => row.column_name)), idTypeKnown: idType !== undefined };
    },
    async hasTwoFactorTable() {
      return (await client.query<{ found: boolean }>('select to_regclass(\'"twoFactor"\') is not null as found')).rows[0]?.found === true;
    },
    async countUsers() {
      return Number((await client.query<{ n: string }>('select count(*) as n from "user"')).rows[0]?.n ?? 0);
    },
    async usersAfter(after, limit) {
      // idType is one of idTypes' values (checked by userColumns), never text from the database.
      const type = idType ?? 'text';
      return (await client.query(`select * from "user" where $1::${type} is null or id > $1::${type} order by id limit $2`, [after, limit])).rows;
    },
    async credentialsOf(userIds) {
      return (await client.query('select "userId", password from account where "providerId" = \'credential\' and "userId" = any($1)', [userIds])).rows;
    },
    async twoFactorsOf(userIds) {
      return (await client.query('select * from "twoFactor" where "userId" = any($1)', [userIds])).rows;
    },
    close: () => client.end(),
  };
}
