// Full two-factor logins per second — password step, then a TOTP code, then tokens — against
// real server processes at production argon2id parameters, on SQLite or PostgreSQL, with one
// instance or several behind a round-robin "load balancer" (the client picks the next one).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { generateTotpCode, totpStepAt } from '../src/core/totp/verify.js';
import { createPostgresDatabase, createRedisPrefix, makeTempDir, testRedisUrl } from '../test/helpers/backend.js';
import { findFreePort, startServerProcess, type ServerProcess } from '../test/helpers/process.js';
import { percentile } from './statistics.js';
import { takeUnspentStep } from './totp-steps.js';

export interface FlowResult {
  flowsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  flows: number;
  errors: number;
}

export interface BenchUser {
  username: string;
  secret: string;
  /** Highest TOTP step this user has spent: each code works once. */
  lastStep: number;
}

const password = 'a benchmark passphrase';

export async function post(url: string, path: string, body: unknown, token?: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

export interface BenchInstances {
  urls: string[];
  /** Process ids, to read their memory from /proc. */
  pids: number[];
  /** The instances' data directory (the SQLite database and its development outbox). */
  dataDir: string;
  /** TWOFOLD_ENCRYPTION_KEY of the instances (base64url), to open what they seal in the outbox. */
  encryptionKey: string;
  stop(): Promise<void>;
}

/**
 * `root`: the checkout whose dist/ runs (another build, for a before-and-after comparison);
 * `nodeArgs`: options for node itself (--cpu-prof, which NODE_OPTIONS does not take).
 */
export async function startInstances(backend: 'sqlite' | 'postgres', count: number, extraEnv: Record<string, string> = {}, root = '.', nodeArgs: readonly string[] = []): Promise<BenchInstances> {
  const dir = makeTempDir('twofold-bench-');
  const cleanups: Array<() => Promise<void> | void> = [dir.dispose];
  const encryptionKey = randomBytes(32).toString('base64url');
  const env: Record<string, string> = {
    TWOFOLD_DATA_DIR: dir.path,
    TWOFOLD_PUBLIC_URL: 'http://twofold.bench',
    TWOFOLD_ENCRYPTION_KEY: encryptionKey,
    TWOFOLD_HOST: '127.0.0.1',
    TWOFOLD_LOG_LEVEL: 'error',
    // The benchmark measures work, not the throttle, the queue bound or the per-network budgets
    // (every user registers from this one machine).
    TWOFOLD_HASH_QUEUE_LIMIT: '10000',
    TWOFOLD_REGISTRATIONS_PER_CLIENT: '1000000',
    TWOFOLD_PASSKEY_CHALLENGES_PER_CLIENT: '1000000',
    ...extraEnv,
  };
  if (backend === 'postgres') {
    const database = await createPostgresDatabase();
    const redis = createRedisPrefix();
    cleanups.push(database.dispose, redis.dispose);
    Object.assign(env, { TWOFOLD_DATABASE_URL: database.url, TWOFOLD_REDIS_URL: testRedisUrl ?? '', TWOFOLD_REDIS_KEY_PREFIX: redis.prefix });
  }
  const instances: ServerProcess[] = [];
  for (let i = 0; i < count; i += 1) {
    const port = await findFreePort();
    instances.push(await startServerProcess({ command: process.execPath, args: [...nodeArgs, join(root, 'dist/cli/main.js'), 'serve'], env: { ...env, TWOFOLD_PORT: String(port) }, port }));
  }
  return {
    urls: instances.map((instance) => instance.baseUrl),
    pids: instances.map((instance) => instance.child.pid ?? 0),
    dataDir: dir.path,
    encryptionKey,
    async stop() {
      await Promise.all(instances.map((instance) => instance.stop()));
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}

/** One signed-up user and a live access token (for routes that need one). */
export async function signUpForAccessToken(url: string, username = `bench-token-${process.pid}-${Date.now()}`): Promise<{ username: string; password: string; accessToken: string }> {
  const registered = await post(url, '/v1/register', { username, password });
  const confirmed = await post(url, `/v1/factors/${registered.body.totp.factor_id}/verify`, { code: generateTotpCode(registered.body.totp.secret, totpStepAt(Date.now())) }, registered.body.mfa_token);
  if (confirmed.status !== 200) throw new Error(`could not sign up ${username}: ${JSON.stringify(confirmed.body)}`);
  return { username, password, accessToken: confirmed.body.access_token };
}

export async function registerUsers(urls: string[], count: number, concurrency: number): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const url = urls[index % urls.length]!;
        const username = `bench-${process.pid}-${index}`;
        const registered = await post(url, '/v1/register', { username, password });
        const step = totpStepAt(Date.now());
        const confirmed = await post(url, `/v1/factors/${registered.body.totp.factor_id}/verify`, { code: generateTotpCode(registered.body.totp.secret, step) }, registered.body.mfa_token);
        if (confirmed.status !== 200) throw new Error(`could not set up ${username}: ${JSON.stringify(confirmed.body)}`);
        users.push({ username, secret: registered.body.totp.secret, lastStep: step });
      }
    }),
  );
  return users;
}

/**
 * Runs `flow` for durationMs from `concurrency` clients, each time with a user and an unspent TOTP
 * step of theirs; a flow answers whether it succeeded.
 */
export async function runTotpFlows<User extends BenchUser>(users: User[], options: { concurrency: number; durationMs: number }, flow: (user: User, step: number) => Promise<boolean>): Promise<FlowResult> {
  const latencies: number[] = [];
  let errors = 0;
  const cursor = { index: 0 };
  const deadline = Date.now() + options.durationMs;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (Date.now() < deadline) {
        const taken = takeUnspentStep(users, cursor);
        if (taken === undefined) throw new Error('ran out of users with an unspent TOTP step; register more');
        const flowStarted = performance.now();
        if (await flow(taken.user, taken.step)) latencies.push(performance.now() - flowStarted);
        else errors += 1;
      }
    }),
  );
  return summarizeFlows(latencies, errors, started);
}

/**
 * The JSON API's two-factor login (password, then the TOTP code) round-robin over `urls`; the
 * latency of each token-issuing step (POST /v1/mfa/verify) goes to `verifyLatencies` when given.
 */
export function runFlows(urls: string[], users: BenchUser[], options: { concurrency: number; durationMs: number }, verifyLatencies?: number[]): Promise<FlowResult> {
  let request = 0;
  return runTotpFlows(users, options, async (user, step) => {
    const login = await post(urls[request++ % urls.length]!, '/v1/login', { username: user.username, password });
    if (login.status !== 200) return false;
    const verifyStarted = performance.now();
    const verify = await post(urls[request++ % urls.length]!, '/v1/mfa/verify', { code: generateTotpCode(user.secret, step) }, login.body.mfa_token);
    verifyLatencies?.push(performance.now() - verifyStarted);
    return verify.status === 200;
  });
}

/** Flows per second and latency percentiles of a run that started at `startedMs` and ends now. */
export function summarizeFlows(latencies: number[], errors: number, startedMs: number): FlowResult {
  const elapsedSeconds = (Date.now() - startedMs) / 1000;
  return { flowsPerSecond: latencies.length / elapsedSeconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), flows: latencies.length, errors };
}
