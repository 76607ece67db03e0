// Better Auth on MySQL or MariaDB, read through mysql2 (better-auth-database.ts reads the pages).
// The URL names the database (`mysql://user@host:3306/app`); the password comes from the URL or
// from the caller (the CLI reads MYSQL_PWD, as the mysql command-line client does).
import mysql from 'mysql2/promise';
import type { BetterAuthConnection } from './better-auth-database.js';

/** The id types Better Auth generates on MySQL (varchar(36) text ids, or serial integers). */
const idTypes = new Set(['varchar', 'char', 'text', 'int', 'bigint']);

type Row = Record<string, unknown>;

export async function openBetterAuthMysql(url: string, fallbackPassword: string | undefined): Promise<BetterAuthConnection> {
  const parsed = new URL(url.replace(/^mariadb:/i, 'mysql:'));
  const password = parsed.password === '' ? fallbackPassword : decodeURIComponent(parsed.password);
  const connection = await mysql.createConnection({
    host: parsed.hostname,
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    ...(password === undefined ? {} : { password }),
    database: decodeURIComponent(parsed.pathname.slice(1)),
    connectTimeout: 10_000,
    // Times as the instants they are (Better Auth writes UTC).
    timezone: 'Z',
    supportBigNumbers: true,
  });
  try {
    // Nothing this reader does writes; the session says so, too.
    await connection.query('set session transaction read only');
  } catch (error) {
    await connection.end();
    throw error;
  }
  const rows = async (statement: string, values: unknown[] = []): Promise<Row[]> => (await connection.query(statement, values))[0] as Row[];
  return {
    async userColumns() {
      const columns = await rows('select column_name as name, data_type as type from information_schema.columns where table_schema = database() and table_name = ?', ['user']);
      const idType = columns.find((column) => column['name'] === 'id')?.['type'];
      return { names: new Set(columns.map((column) => String(column['name']))), idTypeKnown: typeof idType === 'string' && idTypes.has(idType.toLowerCase()) };
    },
    async hasTwoFactorTable() {
      return (await rows('select count(*) as n from information_schema.tables where table_schema = database() and table_name = ?', ['twoFactor']))[0]?.['n'] !== 0;
    },
    async countUsers() {
      return Number((await rows('select count(*) as n from `user`'))[0]?.['n'] ?? 0);
    },
    usersAfter: (after, limit) => (after === null ? rows('select * from `user` order by id limit ?', [limit]) : rows('select * from `user` where id > ? order by id limit ?', [after, limit])),
    credentialsOf: (userIds) => rows("select userId, password from account where providerId = 'credential' and userId in (?)", [userIds]),
    twoFactorsOf: (userIds) => rows('select * from twoFactor where userId in (?)', [userIds]),
    close: () => connection.end(),
  };
}
