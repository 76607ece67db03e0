// protected-route: requests/s of a Fastify route guarded by twofold/verify ÷ the same route
// unguarded, autocannon with 50 connections, against a server process of its own. Rounds
// alternate between the two routes and the median ratio is reported (a noisy, shared machine).
import { findFreePort, startServerProcess } from '../test/helpers/process.js';
import { runLoad } from './load.js';
import { median } from './statistics.js';

export interface ProtectedRouteFigures {
  openPerSecond: number;
  guardedPerSecond: number;
  ratio: number;
}

export async function measureProtectedRoute(options: { rounds: number; durationSeconds: number }): Promise<ProtectedRouteFigures> {
  const port = await findFreePort();
  const server = await startServerProcess({ command: process.execPath, args: ['--import', 'tsx', 'bench/protected-route-server.ts'], env: { PORT: String(port), NODE_ENV: 'production' }, port, readyTimeoutMs: 120_000 });
  try {
    const tokens = (await (await fetch(`${server.baseUrl}/tokens`)).json()) as string[];
    let next = 0;
    const open: number[] = [];
    const guarded: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      const openRun = await runLoad({ url: `${server.baseUrl}/open`, connections: 50, durationSeconds: options.durationSeconds });
      const guardedRun = await runLoad({
        url: `${server.baseUrl}/guarded`,
        connections: 50,
        durationSeconds: options.durationSeconds,
        setupRequest: (request) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
      });
      if (guardedRun.non2xx > 0 || guardedRun.errors > 0 || openRun.errors > 0) throw new Error(`the protected-route run failed: ${JSON.stringify({ openRun, guardedRun })}`);
      open.push(openRun.requestsPerSecond);
      guarded.push(guardedRun.requestsPerSecond);
      ratios.push(guardedRun.requestsPerSecond / openRun.requestsPerSecond);
    }
    return { openPerSecond: median(open), guardedPerSecond: median(guarded), ratio: median(ratios) };
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await measureProtectedRoute({ rounds: 3, durationSeconds: 3 }), null, 2)}\n`);
}
