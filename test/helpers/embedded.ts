// A Twofold made with createTwofold() for library-mode tests: real storage (SQLite, or PostgreSQL
// + Redis in the postgres projects), a test clock, no server of its own — the test mounts it.
import { rmSync } from 'node:fs';
import { loadConfig } from '../../src/config/load.js';
import { createTwofold, type Twofold } from '../../src/twofold.js';
import { createTestStorage } from './backend.js';
import { createTestClock, type TestClock } from './clock.js';
import { makeDataDir, testEnvironment } from './twofold.js';

export interface Embedded {
  twofold: Twofold;
  clock: TestClock;
  close(): Promise<void>;
}

export async function createEmbeddedTwofold(env: Record<string, string> = {}): Promise<Embedded> {
  const dataDir = makeDataDir();
  const storage = await createTestStorage(dataDir);
  const clock = createTestClock();
  const twofold = await createTwofold(loadConfig(testEnvironment(dataDir, { ...storage.env, ...env })), { now: clock.now });
  return {
    twofold,
    clock,
    async close() {
      await twofold.close();
      await storage.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
