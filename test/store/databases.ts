// The databases the store suite runs on. Each test file gets a fresh, migrated database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { openDatabase } from '../../src/store/connect.js';
import type { Database } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';

export interface TestDatabase {
  name: string;
  db: Kysely<Database>;
  close(): Promise<void>;
}

export const databaseFactories: Array<{ name: string; open(): Promise<TestDatabase> }> = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'twofold-store-'));
      const opened = openDatabase({ kind: 'sqlite', path: join(dir, 'store.db') });
      await migrateToLatest(opened.db);
      return {
        name: 'sqlite',
        db: opened.db,
        async close() {
          await opened.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
