// Better Auth on a database server (PostgreSQL or MySQL/MariaDB): the import reads the database
// itself — a URL instead of a file — read-only, in pages of users by id (bounded memory for any
// number of people), with each page's credential accounts and twoFactor rows in one query each.
// The rows become records exactly as the SQLite file's do (better-auth.ts); each dialect only
// says how to ask (better-auth-postgres.ts, better-auth-mysql.ts).
import { refuse, toSourceRecord, type SourceRecord } from '../import-record.js';
import { betterAuthRecord, type BetterAuthOptions } from './better-auth.js';

export const betterAuthPageSize = 500;

type Row = Record<string, unknown>;

/** A read-only connection to a Better Auth database, in its dialect. */
export interface BetterAuthConnection {
  /** The "user" table's columns; `id` must be one of the id types Better Auth generates. */
  userColumns(): Promise<{ names: ReadonlySet<string>; idTypeKnown: boolean }>;
  hasTwoFactorTable(): Promise<boolean>;
  countUsers(): Promise<number>;
  /** Users after `after` (null: from the first) in id order. */
  usersAfter(after: unknown, limit: number): Promise<Row[]>;
  credentialsOf(userIds: readonly unknown[]): Promise<Row[]>;
  twoFactorsOf(userIds: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

function byUser(rows: readonly Row[]): Map<string, Row[]> {
  const grouped = new Map<string, Row[]>();
  for (const row of rows) {
    const userId = String(row['userId']);
    const ofUser = grouped.get(userId);
    if (ofUser === undefined) grouped.set(userId, [row]);
    else ofUser.push(row);
  }
  return grouped;
}

export async function countBetterAuthDatabaseUsers(open: () => Promise<BetterAuthConnection>): Promise<number> {
  const connection = await open();
  try {
    return await connection.countUsers();
  } finally {
    await connection.close();
  }
}

export async function* readBetterAuthDatabaseUsers(open: () => Promise<BetterAuthConnection>, options: BetterAuthOptions): AsyncGenerator<SourceRecord> {
  const connection = await open();
  try {
    const columns = await connection.userColumns();
    if (!columns.idTypeKnown) {
      yield toSourceRecord(1, null, () => refuse('malformed_record', 'the database has no Better Auth "user" table with an id of a type Better Auth generates'));
      return;
    }
    const hasTwoFactor = await connection.hasTwoFactorTable();
    let position = 0;
    let after: unknown = null;
    for (;;) {
      const users = await connection.usersAfter(after, betterAuthPageSize);
      if (users.length === 0) return;
      const ids = users.map((user) => user['id']);
      const credentials = byUser(await connection.credentialsOf(ids));
      const twoFactors = hasTwoFactor ? byUser(await connection.twoFactorsOf(ids)) : new Map<string, Row[]>();
      for (const user of users) {
        position += 1;
        // Ids may be numbers (serial) or uuids: records carry them as text.
        const id = String(user['id']);
        yield betterAuthRecord(position, { user: { ...user, id }, credential: credentials.get(id)?.[0], twoFactors: twoFactors.get(id) ?? [] }, columns.names, options);
      }
      after = users.at(-1)?.['id'];
      if (users.length < betterAuthPageSize) return;
    }
  } finally {
    await connection.close();
  }
}
