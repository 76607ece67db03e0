// Opens the configured database behind Kysely, and recognises the database errors that flows and
// the HTTP layer treat specially: a unique violation (a race lost to another request) and an
// unavailable database (answered 503, never 500).
import type { Kysely } from 'kysely';
import type { TwofoldConfig } from '../config/schema.js';
import type { Database } from './database.js';
import { openPostgres } from './dialects/postgres.js';
import { openSqlite } from './dialects/sqlite.js';

export interface OpenedDatabase {
  db: Kysely<Database>;
  kind: TwofoldConfig['database']['kind'];
  /** Human-readable location for the startup banner (never a password). */
  location: string;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openDatabase(database: TwofoldConfig['database'], onIdleClientError?: (error: Error) => void): OpenedDatabase {
  return database.kind === 'postgres' ? openPostgres(database, onIdleClientError) : openSqlite(database);
}

/** True for a UNIQUE constraint violation, on any supported dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** True for a FOREIGN KEY violation: the row referred to is gone (a race lost to a delete). */
export function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

/**
 * The database refused a value as data (PostgreSQL class 22: a NUL byte, an out-of-range number).
 * Only client input can cause that, so it is answered 400, not 500.
 */
export function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/** PostgreSQL errors worth retrying the whole transaction for. */
export function isTransactionConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

const unavailableErrnos = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
// 08xxx connection exceptions; 57P01–57P03 shutdown / cannot connect now; 53300 too many connections; 57014 timeout.
const unavailableSqlStates = /^(08...|57P0[123]|53300|57014)$/;
const unavailableMessages = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection is closed|database is locked/i;

/** True when the database cannot be reached or answered in time (as opposed to a bad query). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (unavailableErrnos.has(code) || unavailableSqlStates.test(code) || code === 'SQLITE_BUSY')) return true;
  return unavailableMessages.test(error.message);
}
