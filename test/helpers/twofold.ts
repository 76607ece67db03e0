// A real Twofold for tests: real SQLite in a fresh temporary directory, real argon2id (with
// cheap parameters, which the config allows), real keys, and a Fastify app driven through
// app.inject. Only the clock is under the test's control.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import type { TwofoldConfig } from '../../src/config/schema.js';
import type { FlowContext } from '../../src/flows/shared/context.js';
import { createLoggingEventSink, type SecurityEvent } from '../../src/flows/shared/security-events.js';
import { buildApp } from '../../src/http/app.js';
import type { LeaseTiming } from '../../src/flows/instance/single-instance.js';
import { createTwofold, type Twofold } from '../../src/twofold.js';
import { createTestStorage, type TestStorage } from './backend.js';
import { createTestClock, type TestClock } from './clock.js';

export interface TestTwofold {
  twofold: Twofold;
  app: FastifyInstance;
  ctx: FlowContext;
  config: TwofoldConfig;
  clock: TestClock;
  dataDir: string;
  events: SecurityEvent[];
  storage: TestStorage;
  /** Stops the server but keeps its data, for a restart with `restartOf`. */
  stop(): Promise<void>;
  /** Stops and deletes the data. */
  close(): Promise<void>;
}

export interface TestTwofoldOptions {
  /** Environment variables on top of the test defaults, e.g. { TWOFOLD_SIGNING_ALG: 'ES256' }. */
  env?: Record<string, string>;
  clock?: TestClock;
  logger?: FastifyBaseLogger;
  /** Reuse a data directory (removed by the caller); by default a fresh one is made and removed on close. */
  dataDir?: string;
  /** Start on the data of a stopped instance (a restart); this instance then owns and removes it. */
  restartOf?: TestTwofold;
  /** The single-instance lease's timing (without Redis); tests of the lease shorten it. */
  singleInstanceLease?: LeaseTiming;
  /** Run the background upkeep on its real-time timer; off by default: tests call twofold.maintenance.runOnce() at the test clock's time. */
  maintenance?: boolean;
}

export const testPublicUrl = 'http://twofold.test';

export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'twofold-test-'));
}

export function testEnvironment(dataDir: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    TWOFOLD_DATA_DIR: dataDir,
    TWOFOLD_PUBLIC_URL: testPublicUrl,
    // Cheap argon2id keeps the suite fast; production refuses parameters below OWASP's.
    TWOFOLD_ARGON2_MEMORY_KIB: '1024',
    TWOFOLD_ARGON2_TIME_COST: '1',
    TWOFOLD_LOG_LEVEL: 'silent',
    // Suites that fail logins on purpose are not about throttling; the throttle suite sets its own.
    TWOFOLD_THROTTLE_FREE_FAILURES: '1000',
    TWOFOLD_THROTTLE_LOCK_FAILURES: '100000',
    TWOFOLD_THROTTLE_IP_FAILURES: '1000000',
    // Every test client is 127.0.0.1: suites that register, send and reset a lot from it are not
    // about the per-network and global budgets (RC-02); the budget suites set their own.
    TWOFOLD_REGISTRATIONS_PER_CLIENT: '1000000',
    TWOFOLD_PASSKEY_CHALLENGES_PER_CLIENT: '1000000',
    TWOFOLD_PASSWORD_RESETS_PER_CLIENT: '1000000',
    TWOFOLD_SMS_SENDS_PER_CLIENT: '1000000',
    TWOFOLD_SMS_SENDS_PER_HOUR: '100000000',
    TWOFOLD_EMAIL_SENDS_PER_CLIENT: '1000000',
    TWOFOLD_EMAIL_SENDS_PER_HOUR: '100000000',
    ...env,
  };
}

export async function startTestTwofold(options: TestTwofoldOptions = {}): Promise<TestTwofold> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.restartOf?.dataDir ?? options.dataDir ?? makeDataDir();
  const clock = options.clock ?? createTestClock();
  const storage = options.restartOf?.storage ?? (await createTestStorage(dataDir));
  const config = loadConfig(testEnvironment(dataDir, { ...storage.env, ...options.env }));
  const events: SecurityEvent[] = [];
  const logSink = options.logger === undefined ? undefined : createLoggingEventSink(options.logger);
  const record = (event: SecurityEvent) => {
    events.push(event);
    logSink?.record(event);
  };
  const twofold = await createTwofold(config, { now: clock.now, events: { record }, maintenance: options.maintenance ?? false, ...(options.singleInstanceLease === undefined ? {} : { singleInstanceLease: options.singleInstanceLease }) });
  const app = await buildApp(twofold, options.logger === undefined ? {} : { logger: options.logger });
  await app.ready();
  const stop = async () => {
    await app.close();
    await twofold.close();
  };
  return {
    twofold,
    app,
    ctx: twofold.context,
    config,
    clock,
    dataDir,
    events,
    storage,
    stop,
    async close() {
      await stop();
      await storage.dispose();
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
