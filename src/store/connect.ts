// Opens the configured database behind Kysely. SQLite (the embedded default) runs in WAL mode
// with synchronous=FULL: a transaction acknowledged to a client survives a crash or power loss,
// and at ≈8.5 k commits/s (DESIGN.md §6) it is still far above the argon2-bound login rate.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { TwofoldConfig } from '../config/schema.js';
import type { Database } from './database.js';

export interface OpenedDatabase {
  db: Kysely<Database>;
  kind: TwofoldConfig['database']['kind'];
  /** Human-readable location for the startup banner. */
  location: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openDatabase(database: TwofoldConfig['database']): OpenedDatabase {
  if (database.path !== ':memory:') {
    mkdirSync(dirname(database.path), { recursive: true, mode: 0o700 });
    // Created owner-only before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    closeSync(openSync(database.path, 'a', 0o600));
  }
  const sqlite = new BetterSqlite3(database.path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    kind: 'sqlite',
    location: database.path,
    async ping() {
      sqlite.prepare('select 1').get();
    },
    async close() {
      await db.destroy();
    },
  };
}

/** True for a UNIQUE constraint violation, on any supported dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
