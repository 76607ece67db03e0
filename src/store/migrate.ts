// Applies pending migrations. Kysely's Migrator takes a lock first (a PostgreSQL advisory lock;
// on SQLite the single writer), so instances starting together migrate exactly once and the
// others wait, then find nothing to do.
import { Migrator, sql, type Kysely, type MigrationResult } from 'kysely';
import type { Database } from './database.js';
import { migrations } from './migrations/index.js';

export interface MigrationReport {
  applied: string[];
}

export async function migrateToLatest(db: Kysely<Database>, options: { schema?: string | undefined } = {}): Promise<MigrationReport> {
  // The search_path names the schema; it must exist before the first table goes into it.
  if (options.schema !== undefined) await sql`create schema if not exists ${sql.id(options.schema)}`.execute(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(options.schema === undefined ? {} : { migrationTableSchema: options.schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result: MigrationResult) => result.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed`, { cause: error });
  }
  return { applied: (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName) };
}
