// dpop-route: requests/s of a Fastify route guarded by twofold/verify with DPoP-bound tokens (a new
// proof per request: its signature, claims and jti checked every time — the verified-token cache
// may skip the token's signature, never the proof) ÷ the same route with bearer tokens, and the
// floor: the bearer route plus one raw ES256 verification per request. autocannon with 50
// connections against a server process of its own; rounds alternate and medians are reported.
import { findFreePort, startServerProcess } from '../test/helpers/process.js';
import { benchProofKey } from './dpop-proof-check.js';
import { runLoad } from './load.js';
import { median } from './statistics.js';

export interface DpopRouteFigures {
  bearerPerSecond: number;
  dpopPerSecond: number;
  floorPerSecond: number;
  /** Medians of the per-round ratios. */
  dpopRatio: number;
  floorRatio: number;
}

export async function measureDpopRoute(options: { rounds: number; durationSeconds: number; maxRequestsPerSecond: number }): Promise<DpopRouteFigures> {
  const port = await findFreePort();
  const server = await startServerProcess({ command: process.execPath, args: ['--import', 'tsx', 'bench/dpop-route-server.ts'], env: { PORT: String(port), NODE_ENV: 'production' }, port, readyTimeoutMs: 120_000 });
  try {
    // One client key; the proofs are made before a run so the load generator only sends.
    const key = benchProofKey();
    const { bearer, bound } = (await (await fetch(`${server.baseUrl}/tokens?jkt=${key.jkt}`)).json()) as { bearer: string[]; bound: string[] };
    const figures = { bearer: [] as number[], dpop: [] as number[], floor: [] as number[], dpopRatio: [] as number[], floorRatio: [] as number[] };
    for (let round = 0; round < options.rounds; round += 1) {
      let next = 0;
      const withBearer = (request: { headers?: Record<string, string> }) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${bearer[next++ % bearer.length]}` } });
      const bearerRun = await runLoad({ url: `${server.baseUrl}/bearer`, connections: 50, durationSeconds: options.durationSeconds, setupRequest: withBearer });
      const floorRun = await runLoad({ url: `${server.baseUrl}/floor`, connections: 50, durationSeconds: options.durationSeconds, setupRequest: withBearer });
      // Fresh proofs for this round (each works once, and only for 60 s).
      const htu = `${server.baseUrl}/dpop`;
      const requests = Array.from({ length: options.maxRequestsPerSecond * options.durationSeconds }, (_, index) => {
        const token = bound[index % bound.length] ?? '';
        return { authorization: `DPoP ${token}`, dpop: key.proofFor(htu, token) };
      });
      let sent = 0;
      const dpopRun = await runLoad({
        url: htu,
        connections: 50,
        durationSeconds: options.durationSeconds,
        setupRequest: (request) => ({ ...request, headers: { ...request.headers, ...requests[sent++ % requests.length] } }),
      });
      if (sent > requests.length) throw new Error(`the DPoP run sent ${sent} requests but only ${requests.length} proofs were made: raise maxRequestsPerSecond`);
      for (const run of [bearerRun, floorRun, dpopRun]) if (run.non2xx > 0 || run.errors > 0) throw new Error(`the DPoP route run failed: ${JSON.stringify({ bearerRun, floorRun, dpopRun })}`);
      figures.bearer.push(bearerRun.requestsPerSecond);
      figures.floor.push(floorRun.requestsPerSecond);
      figures.dpop.push(dpopRun.requestsPerSecond);
      figures.dpopRatio.push(dpopRun.requestsPerSecond / bearerRun.requestsPerSecond);
      figures.floorRatio.push(floorRun.requestsPerSecond / bearerRun.requestsPerSecond);
    }
    return {
      bearerPerSecond: median(figures.bearer),
      dpopPerSecond: median(figures.dpop),
      floorPerSecond: median(figures.floor),
      dpopRatio: median(figures.dpopRatio),
      floorRatio: median(figures.floorRatio),
    };
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await measureDpopRoute({ rounds: 2, durationSeconds: 3, maxRequestsPerSecond: 8_000 }), null, 2)}\n`);
}
