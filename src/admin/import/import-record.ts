// What every source reader hands the import pipeline: one person as Twofold will store them, or
// the reason their record cannot be read. Readers know their system's export format; the
// pipeline (import-users.ts) knows Twofold's tables. Neither knows the other's details.

export const importSources = ['better-auth', 'supabase', 'auth0', 'keycloak', 'csv'] as const;
export type ImportSource = (typeof importSources)[number];

export interface ImportCandidate {
  /** The user's id in the source system: the import ledger's key (idempotent re-runs). */
  sourceId: string;
  /** Usernames to try, best first (the source's username, then one made from the e-mail address). */
  usernames: string[];
  email: string | null;
  emailVerified: boolean;
  phone: string | null;
  /** A stored hash in a form core/password/imported reads, or null when the source has none. */
  passwordHash: string | null;
  /** Base32 TOTP secrets (SHA-1, 6 digits, 30 s) of verified authenticator enrollments. */
  totpSecrets: string[];
  disabled: boolean;
  /** Milliseconds since the epoch, when the source says. */
  createdAt: number | null;
}

/** Stable reasons in the report; operators filter on them. */
export type SkipReason =
  | 'record_too_large'
  | 'malformed_record'
  | 'missing_id'
  | 'no_password'
  | 'unsupported_hash'
  | 'hash_cost_too_high'
  | 'unsupported_totp'
  | 'secret_undecryptable'
  | 'invalid_email'
  | 'invalid_username'
  | 'username_taken'
  | 'already_imported';

export type SourceRecord =
  | { kind: 'user'; position: number; candidate: ImportCandidate }
  | { kind: 'skip'; position: number; sourceId: string | null; reason: SkipReason; detail: string };

/** Thrown inside a reader for one record: the record is skipped with this reason. */
export class RecordRefusal extends Error {
  constructor(
    readonly reason: SkipReason,
    detail: string,
  ) {
    super(detail);
  }
}

export function refuse(reason: SkipReason, detail: string): never {
  throw new RecordRefusal(reason, detail);
}

/** Turns one parsed record into a SourceRecord, catching the reader's refusals (and only those). */
export function toSourceRecord(position: number, sourceId: string | null, build: () => ImportCandidate): SourceRecord {
  try {
    return { kind: 'user', position, candidate: build() };
  } catch (error) {
    if (error instanceof RecordRefusal) return { kind: 'skip', position, sourceId, reason: error.reason, detail: error.message };
    throw error;
  }
}

/** A field read from a record: only strings are strings (no numbers, arrays or objects slipped in). */
export function optionalString(record: Record<string, unknown>, field: string, maxLength = 1024): string | null {
  const value = record[field];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') refuse('malformed_record', `${field} is not a string`);
  if (value.length > maxLength) refuse('malformed_record', `${field} is longer than ${maxLength} characters`);
  return value;
}

export function requiredId(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  const id = optionalString(record, field, 255);
  if (id === null) refuse('missing_id', `the record has no ${field}`);
  return id;
}

export function optionalBoolean(record: Record<string, unknown>, field: string): boolean {
  const value = record[field];
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  if (value === 'true' || value === 't' || value === '1') return true;
  if (value === 'false' || value === 'f' || value === '0' || value === '') return false;
  return refuse('malformed_record', `${field} is not a boolean`);
}

/** A timestamp as a number (ms), a Date, an ISO 8601 string, or PostgreSQL's text form; null when absent. */
export function optionalTime(record: Record<string, unknown>, field: string): number | null {
  const value = record[field];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.trunc(value);
  // A database driver's timestamp (node-postgres reads timestamptz as a Date).
  if (value instanceof Date && Number.isFinite(value.getTime()) && value.getTime() >= 0) return value.getTime();
  if (typeof value === 'string' && value.length <= 64) {
    // PostgreSQL writes "2024-01-02 03:04:05.123456+00": make it ISO 8601.
    const iso = value.replace(/^(\d{4}-\d{2}-\d{2}) /, '$1T').replace(/([+-]\d{2})$/, '$1:00');
    const parsed = Date.parse(iso);
    if (Number.isFinite(parsed)) return parsed;
  }
  return refuse('malformed_record', `${field} is not a time`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
