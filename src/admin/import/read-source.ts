// Opens the export file of one source system (Better Auth: its SQLite file or its database's URL) as a
// stream of records.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ImportSource, SourceRecord } from './import-record.js';
import { readAuth0Users } from './sources/auth0.js';
import { readBetterAuthUsers } from './sources/better-auth.js';
import { betterAuthDatabase } from './sources/better-auth-databases.js';
import { readBetterAuthDatabaseUsers } from './sources/better-auth-database.js';
import { readKeycloakUsers } from './sources/keycloak.js';
import { readSupabaseUsers } from './sources/supabase.js';
import { supabaseKeysVariable, type SupabaseDecryptionKeys } from './sources/supabase-encryption.js';
import { readTwofoldCsvUsers } from './sources/twofold-csv.js';

export interface SourceOptions {
  /** Better Auth's auth secret, to open its twoFactor secrets. */
  betterAuthSecret?: string | undefined;
  /** Better Auth on MySQL: the password when its URL has none. */
  mysqlPassword?: string | undefined;
  /** GoTrue's database decryption keys, to open Supabase TOTP secrets it encrypted. */
  supabaseDecryptionKeys?: SupabaseDecryptionKeys | undefined;
  /** The environment variable those keys came from, named when a secret cannot be opened. */
  supabaseKeysVariable?: string | undefined;
  now: number;
  /** Told how many bytes of the file were read so far (the progress bar). */
  onBytesRead?: (bytes: number) => void;
}

export function readSourceRecords(source: ImportSource, file: string, options: SourceOptions): AsyncIterable<SourceRecord> {
  if (source === 'better-auth') {
    // A SQLite file, or the PostgreSQL or MySQL database itself.
    const betterAuth = { secret: options.betterAuthSecret };
    const database = betterAuthDatabase(file, { mysqlPassword: options.mysqlPassword });
    return database === undefined ? readBetterAuthUsers(file, betterAuth) : readBetterAuthDatabaseUsers(database, betterAuth);
  }
  const input = countingStream(file, options.onBytesRead);
  switch (source) {
    case 'supabase':
      return readSupabaseUsers(input, { now: options.now, decryptionKeys: options.supabaseDecryptionKeys, keysVariable: options.supabaseKeysVariable ?? supabaseKeysVariable });
    case 'auth0':
      return readAuth0Users(input);
    case 'keycloak':
      return readKeycloakUsers(input);
    case 'csv':
      return readTwofoldCsvUsers(input);
  }
}

function countingStream(file: string, onBytesRead: ((bytes: number) => void) | undefined): Readable {
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  if (onBytesRead !== undefined) stream.on('data', () => onBytesRead(stream.bytesRead));
  return stream;
}
