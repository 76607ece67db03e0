// Nothing acknowledged is lost. A server is killed with SIGKILL in the middle
// of a burst of registrations and refresh rotations; after a restart every registration that
// was answered 2xx can log in, every refresh token that was handed out is stored, and no refresh
// family is half-rotated — on SQLite (WAL, synchronous=FULL) and on PostgreSQL.
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { createPostgresDatabase, makeTempDir, testDatabaseUrl, withClient } from '../helpers/backend.js';
import { call } from '../helpers/http-client.js';
import { findFreePort, startServerProcess, waitForPortClosed } from '../helpers/process.js';
import { requirement } from '../helpers/requirements.js';
import { testEnvironment } from '../helpers/twofold.js';

interface RefreshRow {
  id: string;
  session_id: string;
  token_hash: string;
  parent_id: string | null;
  used_at: number | null;
  revoked_at: number | null;
  state: string;
}

const haveDatabase = requirement('PostgreSQL', testDatabaseUrl !== undefined, 'set TWOFOLD_TEST_DATABASE_URL (see .ci/run)');
const disposals: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const dispose of disposals) await dispose();
});

const backends: Array<{ name: string; run: boolean; setUp(): Promise<{ env: Record<string, string>; readRefreshRows(): Promise<RefreshRow[]> }> }> = [
  {
    name: 'SQLite',
    run: true,
    async setUp() {
      const dir = makeTempDir('twofold-durability-');
      disposals.push(dir.dispose);
      const env = testEnvironment(dir.path, {});
      return {
        env,
        async readRefreshRows() {
          const sqlite = new BetterSqlite3(join(dir.path, 'twofold.db'), { readonly: true });
          try {
            return sqlite.prepare('select r.*, s.state from refresh_tokens r join sessions s on s.id = r.session_id').all() as RefreshRow[];
          } finally {
            sqlite.close();
          }
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    run: haveDatabase,
    async setUp() {
      const database = await createPostgresDatabase();
      disposals.push(database.dispose);
      const dir = makeTempDir('twofold-durability-');
      disposals.push(dir.dispose);
      const env = testEnvironment(dir.path, { TWOFOLD_DATABASE_URL: database.url });
      return {
        env,
        readRefreshRows: () =>
          withClient(database.url, async (client) => (await client.query('select r.*, s.state from refresh_tokens r join sessions s on s.id = r.session_id')).rows as RefreshRow[]),
      };
    },
  },
];

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

describe.each(backends.filter((backend) => backend.run))('kill -9 during a burst on $name', (backend) => {
  it('every acknowledged registration can log in, every issued refresh token is stored, no family is half-rotated', async () => {
    const { env, readRefreshRows } = await backend.setUp();
    const port = await findFreePort();
    const serverEnv = { ...env, TWOFOLD_PORT: String(port), TWOFOLD_HOST: '127.0.0.1', TWOFOLD_ENCRYPTION_KEY: randomBytes(32).toString('base64url'), TWOFOLD_LOG_LEVEL: 'warn' };
    const start = () => startServerProcess({ command: process.execPath, args: ['dist/cli/main.js', 'serve'], env: serverEnv, port });
    let server = await start();
    const url = server.baseUrl;

    // Signed-up users whose refresh tokens are rotated during the burst.
    const chains: Array<{ latest: string }> = [];
    for (let i = 0; i < 6; i += 1) {
      const registered = await call(url, 'POST', '/v1/register', { username: `chain-${i}-${process.pid}`, password: 'a durable passphrase' });
      const code = generateTotpCode(registered.body.totp.secret, totpStepAt(Date.now()));
      const confirmed = await call(url, 'POST', `/v1/factors/${registered.body.totp.factor_id}/verify`, { code }, registered.body.mfa_token);
      chains.push({ latest: confirmed.body.refresh_token });
    }

    const acknowledgedUsers: string[] = [];
    const issuedRefreshTokens: string[] = chains.map((chain) => chain.latest);
    let stop = false;
    const registrations = async (worker: number) => {
      for (let i = 0; !stop; i += 1) {
        const username = `burst-${worker}-${i}-${process.pid}`;
        try {
          const response = await call(url, 'POST', '/v1/register', { username, password: 'a durable passphrase' });
          if (response.status === 201) acknowledgedUsers.push(username);
        } catch {
          return; // the connection died with the server
        }
      }
    };
    const rotations = async (chain: { latest: string }) => {
      while (!stop) {
        try {
          const response = await call(url, 'POST', '/v1/token/refresh', { refresh_token: chain.latest });
          if (response.status !== 200) return;
          chain.latest = response.body.refresh_token;
          issuedRefreshTokens.push(chain.latest);
        } catch {
          return;
        }
      }
    };
    const burst = Promise.all([...[0, 1, 2, 3].map(registrations), ...chains.map(rotations)]);
    await new Promise((resolve) => setTimeout(resolve, 700));
    server.child.kill('SIGKILL');
    stop = true;
    await burst;
    await server.exited;
    await waitForPortClosed(port);
    expect(acknowledgedUsers.length).toBeGreaterThan(5);
    expect(issuedRefreshTokens.length).toBeGreaterThan(chains.length);

    server = await start();
    try {
      for (const username of acknowledgedUsers) {
        const login = await call(url, 'POST', '/v1/login', { username, password: 'a durable passphrase' });
        expect(login.status, `acknowledged registration ${username} lost`).toBe(200);
      }
      const rows = await readRefreshRows();
      const hashes = new Set(rows.map((row) => row.token_hash));
      for (const token of issuedRefreshTokens) expect(hashes.has(sha256(token)), 'an issued refresh token is missing').toBe(true);
      const childrenOf = new Map<string, number>();
      for (const row of rows) if (row.parent_id !== null) childrenOf.set(row.parent_id, (childrenOf.get(row.parent_id) ?? 0) + 1);
      for (const row of rows) {
        // A used token always has exactly one successor: rotation is one transaction.
        if (row.used_at !== null) expect(childrenOf.get(row.id) ?? 0).toBe(1);
      }
      for (const sessionId of new Set(rows.filter((row) => row.state === 'active').map((row) => row.session_id))) {
        const heads = rows.filter((row) => row.session_id === sessionId && row.used_at === null && row.revoked_at === null);
        expect(heads, `session ${sessionId} must have exactly one live refresh token`).toHaveLength(1);
      }
    } finally {
      await server.stop();
    }
  }, 60_000);
});
