// The database the store suite runs on: SQLite in the "sqlite" test project, PostgreSQL (a
// fresh schema) in the "postgres" one. Each test file gets a fresh, migrated database.
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openDatabase } from '../../src/store/connect.js';
import type { Database } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { createPostgresSchema, makeTempDir, testBackend } from '../helpers/backend.js';

export interface TestDatabase {
  name: string;
  db: Kysely<Database>;
  close(): Promise<void>;
}

const openSqliteTestDatabase = async (): Promise<TestDatabase> => {
  const dir = makeTempDir('twofold-store-');
  const opened = openDatabase({ kind: 'sqlite', path: join(dir.path, 'store.db') });
  await migrateToLatest(opened.db);
  return {
    name: 'sqlite',
    db: opened.db,
    async close() {
      await opened.close();
      dir.dispose();
    },
  };
};

const openPostgresTestDatabase = async (): Promise<TestDatabase> => {
  const schema = await createPostgresSchema();
  const opened = openDatabase({ kind: 'postgres', url: schema.url, schema: schema.schema, poolMax: 10, connectTimeoutMs: 2000, queryTimeoutMs: 5000 });
  await migrateToLatest(opened.db, { schema: schema.schema });
  return {
    name: 'postgres',
    db: opened.db,
    async close() {
      await opened.close();
      await schema.dispose();
    },
  };
};

export const databaseFactories: Array<{ name: string; open(): Promise<TestDatabase> }> = [
  testBackend !== 'sqlite' ? { name: 'postgres', open: openPostgresTestDatabase } : { name: 'sqlite', open: openSqliteTestDatabase },
];
