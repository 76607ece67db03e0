// The hosted pages served by a real `twofold serve` process (dist/, built first) on a free port,
// with its own data directory, for the browser tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, startServerProcess, type ServerProcess } from './process.js';
import { testEnvironment } from './twofold.js';

export interface RunningPages {
  server: ServerProcess;
  url: string;
  dataDir: string;
  dispose(): Promise<void>;
}

export async function startPages(env: Record<string, string> = {}): Promise<RunningPages> {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-browser-'));
  const port = await findFreePort();
  const url = `http://localhost:${port}`;
  const server = await startServerProcess({
    command: process.execPath,
    args: ['dist/cli/main.js', 'serve'],
    env: testEnvironment(dataDir, { TWOFOLD_PORT: String(port), TWOFOLD_HOST: 'localhost', TWOFOLD_PUBLIC_URL: url, TWOFOLD_LOG_LEVEL: 'warn', ...env }),
    port,
  });
  return { server, url, dataDir, dispose: async () => (await server.stop(), rmSync(dataDir, { recursive: true, force: true })) };
}
