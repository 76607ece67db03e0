// When Redis or PostgreSQL goes away, requests that need it answer 503
// server_busy problem+json promptly (bounded timeouts — never a hang, never a 500), /readyz names
// the dependency that is down, and service resumes by itself when it is back. Private servers on
// free ports are started and stopped here; the machine's shared services are never touched.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { openPostgres } from '../../src/store/dialects/postgres.js';
import { makeTempDir } from '../helpers/backend.js';
import { call, type HttpResult } from '../helpers/http-client.js';
import { findFreePort, runCommand, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { privatePostgresAvailable, redisServerAvailable, startPrivatePostgres, startPrivateRedis, type PrivateService } from '../helpers/private-services.js';
import { requirement } from '../helpers/requirements.js';
import { testEnvironment } from '../helpers/twofold.js';

const request = call;

function expectServerBusy(response: HttpResult): void {
  expect(response.status).toBe(503);
  expect(response.contentType).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ code: 'server_busy', status: 503 });
  expect(response.headers.get('retry-after')).toBe('1');
}

async function waitUntilReady(baseUrl: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt += 1) {
    if ((await request(baseUrl, 'GET', '/readyz')).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the server did not become ready again');
}

async function startTwofold(env: Record<string, string>): Promise<{ server: ServerProcess; dispose(): Promise<void> }> {
  const dir = makeTempDir('twofold-faults-');
  const port = await findFreePort();
  const server = await startServerProcess({
    command: process.execPath,
    args: ['dist/cli/main.js', 'serve'],
    env: testEnvironment(dir.path, { TWOFOLD_PORT: String(port), TWOFOLD_HOST: '127.0.0.1', TWOFOLD_LOG_LEVEL: 'error', ...env }),
    port,
  });
  return { server, dispose: async () => (await server.stop(), dir.dispose()) };
}

async function signUp(baseUrl: string, username: string) {
  const password = 'a fault tolerant passphrase';
  const registered = await request(baseUrl, 'POST', '/v1/register', { username, password });
  expect(registered.status).toBe(201);
  const code = generateTotpCode(registered.body.totp.secret, totpStepAt(Date.now()));
  const confirmed = await request(baseUrl, 'POST', `/v1/factors/${registered.body.totp.factor_id}/verify`, { code }, registered.body.mfa_token);
  expect(confirmed.status).toBe(200);
  return { username, password, accessToken: confirmed.body.access_token as string };
}

const haveRedis = requirement('redis-server', redisServerAvailable(), 'install Debian package redis-server');
const havePostgres = requirement('PostgreSQL server binaries', privatePostgresAvailable(), 'install Debian package postgresql');

describe.runIf(haveRedis)('Redis goes away', () => {
  let redis: PrivateService;
  let twofold: Awaited<ReturnType<typeof startTwofold>>;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    twofold = await startTwofold({ TWOFOLD_REDIS_URL: redis.url, TWOFOLD_REDIS_COMMAND_TIMEOUT_MS: '500' });
  });
  afterAll(async () => {
    await twofold?.dispose();
    await redis?.dispose();
  });

  it('answers 503 where Redis is needed, keeps serving what it can, and resumes when Redis is back', async () => {
    const url = twofold.server.baseUrl;
    const user = await signUp(url, 'redis-fault-user');
    await redis.stop();

    expectServerBusy(await request(url, 'POST', '/v1/login', { username: user.username, password: user.password }));
    const ready = await request(url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'unavailable', checks: { database: 'ok', redis: 'unavailable', signing_key: 'ok' } });
    expect((await request(url, 'GET', '/healthz')).status).toBe(200);
    // What needs only the database keeps working.
    expect((await request(url, 'GET', '/v1/me', undefined, user.accessToken)).status).toBe(200);
    // A logout is committed in the database even though it cannot be announced through Redis.
    expect((await request(url, 'POST', '/v1/logout', undefined, user.accessToken)).status).toBe(204);
    expect((await request(url, 'GET', '/v1/me', undefined, user.accessToken)).status).toBe(401);

    await redis.start();
    await waitUntilReady(url);
    expect((await request(url, 'POST', '/v1/login', { username: user.username, password: user.password })).status).toBe(200);
  });

  it('a Redis that stops answering (a partition) costs a bounded wait, then 503 — and recovers', async () => {
    const url = twofold.server.baseUrl;
    const user = await signUp(url, 'redis-frozen-user');
    redis.freeze();
    try {
      expectServerBusy(await request(url, 'POST', '/v1/login', { username: user.username, password: user.password }));
      expect((await request(url, 'GET', '/readyz')).body.checks.redis).toBe('unavailable');
    } finally {
      redis.thaw();
    }
    await waitUntilReady(url);
    expect((await request(url, 'POST', '/v1/login', { username: user.username, password: user.password })).status).toBe(200);
  });
});

describe.runIf(havePostgres)('PostgreSQL goes away', () => {
  let postgres: PrivateService;
  let twofold: Awaited<ReturnType<typeof startTwofold>>;
  const encryptionKey = randomBytes(32).toString('base64url');
  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    twofold = await startTwofold({
      TWOFOLD_DATABASE_URL: postgres.url,
      TWOFOLD_ENCRYPTION_KEY: encryptionKey,
      TWOFOLD_DATABASE_CONNECT_TIMEOUT_MS: '1000',
      TWOFOLD_DATABASE_QUERY_TIMEOUT_MS: '2000',
    });
  }, 60_000);
  afterAll(async () => {
    await twofold?.dispose();
    await postgres?.dispose();
  });

  it('answers 503 server_busy (never a hang or a 500), says so in /readyz, and resumes by itself', async () => {
    const url = twofold.server.baseUrl;
    const user = await signUp(url, 'postgres-fault-user');
    await postgres.stop();

    expectServerBusy(await request(url, 'POST', '/v1/login', { username: user.username, password: user.password }));
    expectServerBusy(await request(url, 'GET', '/v1/me', undefined, user.accessToken));
    expectServerBusy(await request(url, 'POST', '/v1/register', { username: 'while-postgres-is-down', password: 'a fault tolerant passphrase' }));
    const ready = await request(url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toBe('unavailable');
    expect((await request(url, 'GET', '/healthz')).status).toBe(200);

    await postgres.start();
    await waitUntilReady(url);
    expect((await request(url, 'POST', '/v1/login', { username: user.username, password: user.password })).status).toBe(200);
    expect((await request(url, 'GET', '/v1/me', undefined, user.accessToken)).status).toBe(200);
  });

  it('a PostgreSQL that stops answering (a partition) costs a bounded wait, then 503 — and recovers', async () => {
    const url = twofold.server.baseUrl;
    const user = await signUp(url, 'postgres-frozen-user');
    postgres.freeze();
    try {
      expectServerBusy(await request(url, 'GET', '/v1/me', undefined, user.accessToken));
      expectServerBusy(await request(url, 'POST', '/v1/login', { username: user.username, password: user.password }));
      expect((await request(url, 'GET', '/readyz')).body.checks.database).toBe('unavailable');
    } finally {
      postgres.thaw();
    }
    await waitUntilReady(url);
    for (let i = 0; i < 5; i += 1) expect((await request(url, 'GET', '/v1/me', undefined, user.accessToken)).status).toBe(200);
    expect((await request(url, 'POST', '/v1/login', { username: user.username, password: user.password })).status).toBe(200);
  });

  it('PostgreSQL going away while a transaction holds a connection between two queries fails that transaction, not the process', async () => {
    // pg emits 'error' on a checked-out client whose connection drops while no query runs on it;
    // the pool listens only to idle clients, so without a listener of Twofold's the process crashed.
    const idleErrors: Error[] = [];
    const opened = openPostgres({ kind: 'postgres', url: postgres.url, schema: undefined, poolMax: 2, connectTimeoutMs: 1000, queryTimeoutMs: 2000 }, (error) => idleErrors.push(error));
    try {
      const transaction = opened.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        await postgres.stop();
        await new Promise((resolve) => setTimeout(resolve, 300));
        await sql`select 1`.execute(trx);
      });
      await expect(transaction).rejects.toThrow();
    } finally {
      await postgres.start();
    }
    await waitUntilReady(twofold.server.baseUrl);
    for (let attempt = 0; ; attempt += 1) {
      const answered = await opened.ping().then(() => true, () => false);
      if (answered) break;
      if (attempt >= 20) throw new Error('the pool did not reconnect after PostgreSQL came back');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await opened.close();
  });

  it('a server cannot start while its database is down, and says which variable points there', async () => {
    await postgres.stop();
    try {
      const dir = makeTempDir('twofold-faults-');
      const result = await runCommand(process.execPath, ['dist/cli/main.js', 'serve'], testEnvironment(dir.path, { TWOFOLD_DATABASE_URL: postgres.url, TWOFOLD_DATABASE_CONNECT_TIMEOUT_MS: '500' }));
      dir.dispose();
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('TWOFOLD_DATABASE_URL');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await postgres.start();
    }
  });
});
