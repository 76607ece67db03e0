// Which storage backend the flow and store suites run on. The "sqlite" test project uses the
// embedded default (a SQLite file, in-process memory for shared state); the "postgres" project
// runs the same suites on PostgreSQL + Redis, the multi-instance setup — each test instance in a
// fresh PostgreSQL schema and under its own Redis key prefix, cleaned up afterwards; the
// "postgres-no-redis" project runs the attack suites on PostgreSQL with in-process shared state
// (one instance), the third way Twofold is deployed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

export type TestBackend = 'sqlite' | 'postgres' | 'postgres-no-redis';

const backends: readonly TestBackend[] = ['sqlite', 'postgres', 'postgres-no-redis'];
export const testBackend: TestBackend = backends.find((backend) => backend === process.env['TWOFOLD_TEST_BACKEND']) ?? 'sqlite';
/** The shared state the backend's Twofold uses. */
export const testSharedState: 'memory' | 'redis' = testBackend === 'postgres' ? 'redis' : 'memory';
export const testDatabaseUrl = process.env['TWOFOLD_TEST_DATABASE_URL'];
export const testRedisUrl = process.env['TWOFOLD_TEST_REDIS_URL'];

export interface TestStorage {
  /** Environment variables that point Twofold at this storage. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A fresh, empty PostgreSQL schema; dropped with everything in it by dispose(). */
export async function createPostgresSchema(): Promise<{ url: string; schema: string; dispose(): Promise<void> }> {
  if (testDatabaseUrl === undefined) throw new Error('TWOFOLD_TEST_DATABASE_URL is not set');
  const schema = uniqueName('t');
  const url = testDatabaseUrl;
  await withClient(url, (client) => client.query(`create schema ${schema}`));
  return { url, schema, dispose: () => withClient(url, (client) => client.query(`drop schema if exists ${schema} cascade`)).then(() => undefined) };
}

/** A fresh PostgreSQL database (for tests that start server processes of their own). */
export async function createPostgresDatabase(): Promise<{ url: string; dispose(): Promise<void> }> {
  if (testDatabaseUrl === undefined) throw new Error('TWOFOLD_TEST_DATABASE_URL is not set');
  const name = uniqueName('twofold_test');
  await withClient(testDatabaseUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dispose: () => withClient(testDatabaseUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

/** A Redis key prefix of its own; dispose() deletes every key under it. */
export function createRedisPrefix(url = testRedisUrl): { prefix: string; dispose(): Promise<void> } {
  if (url === undefined) throw new Error('TWOFOLD_TEST_REDIS_URL is not set');
  const prefix = `${uniqueName('twofold-test')}:`;
  return { prefix, dispose: () => deleteRedisKeys(url, prefix) };
}

export async function createTestStorage(dataDir: string): Promise<TestStorage> {
  if (testBackend === 'sqlite') return { env: { TWOFOLD_DATA_DIR: dataDir }, dispose: async () => undefined };
  const schema = await createPostgresSchema();
  if (testBackend === 'postgres-no-redis') {
    return { env: { TWOFOLD_DATA_DIR: dataDir, TWOFOLD_DATABASE_URL: schema.url, TWOFOLD_DATABASE_SCHEMA: schema.schema }, dispose: () => schema.dispose() };
  }
  const redis = createRedisPrefix();
  return {
    env: {
      TWOFOLD_DATA_DIR: dataDir,
      TWOFOLD_DATABASE_URL: schema.url,
      TWOFOLD_DATABASE_SCHEMA: schema.schema,
      TWOFOLD_REDIS_URL: testRedisUrl ?? '',
      TWOFOLD_REDIS_KEY_PREFIX: redis.prefix,
    },
    async dispose() {
      await Promise.all([schema.dispose(), redis.dispose()]);
    },
  };
}

export function makeTempDir(prefix: string): { path: string; dispose(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
