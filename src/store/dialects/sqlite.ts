// The embedded default: SQLite through better-sqlite3. WAL mode lets readers run beside the one
// writer; synchronous=FULL makes every acknowledged transaction durable across a crash or a
// power loss (≈8.5 k commits/s measured on two cores — far above the argon2-bound login rate).
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { SqliteDatabaseConfig } from '../../config/schema.js';
import type { Database } from '../database.js';
import type { OpenedDatabase } from '../connect.js';
import { withStatementCache } from './statement-cache.js';

export function openSqlite(config: SqliteDatabaseConfig): OpenedDatabase {
  if (config.path !== ':memory:') {
    mkdirSync(dirname(config.path), { recursive: true, mode: 0o700 });
    // Created owner-only before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    closeSync(openSync(config.path, 'a', 0o600));
  }
  const sqlite = new BetterSqlite3(config.path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return {
    db,
    kind: 'sqlite',
    location: `SQLite ${config.path} (WAL, synchronous=FULL)`,
    async ping() {
      sqlite.prepare('select 1').get();
    },
    async close() {
      await db.destroy();
    },
  };
}
