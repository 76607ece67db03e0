// The server under login load, against its physical limits, on one SQLite instance at the
// production argon2id parameters:
// - login-password-step: password-step logins/s ÷ argon2id verifications/s alone (same parameters,
//   same concurrency as the server's hash pool): what the HTTP, database and token work costs.
// - event-loop / verify-under-login: p99 latency of GET /healthz and GET /v1/me (token
//   verification + session lookup) seen by one client while other clients saturate POST /v1/login.
// - memory: peak RSS under a burst of 1,000 concurrent logins, whose excess must be answered 503
//   with Retry-After (the bounded hash queue) rather than held in memory.
import { Agent } from 'node:http';
import { availableParallelism } from 'node:os';
import { measureArgon2Verifies } from './argon2-baseline.js';
import { signUpForAccessToken, startInstances, type BenchInstances } from './full-flow.js';
import { peakResidentMegabytes, probeLatency, runLoad, send } from './load.js';
import { median } from './statistics.js';

const loginConnections = 16;

export interface LoadFigures {
  loginsPerSecond: number;
  argon2PerSecond: number;
  /** Median of the per-round ratios (each round measures both, back to back). */
  loginRatio: number;
  healthzP99Ms: number;
  meP99Ms: number;
  loginsDuringProbe: number;
  burst: { peakRssMb: number; ok: number; busy: number; busyWithRetryAfter: number; other: number };
}

export async function measureServerUnderLoad(options: { durationSeconds: number; rounds: number; log: (message: string) => void }): Promise<LoadFigures> {
  const server: BenchInstances = await startInstances('sqlite', 1, {
    // Only the throttle is lifted (the same password is tried over and over); the hash pool and
    // its queue bound stay at their defaults, so the burst meets the real limits.
    TWOFOLD_THROTTLE_FREE_FAILURES: '1000',
    TWOFOLD_THROTTLE_LOCK_FAILURES: '100000',
    TWOFOLD_THROTTLE_IP_FAILURES: '1000000',
    TWOFOLD_HASH_QUEUE_LIMIT: '64',
  });
  try {
    const url = server.urls[0] ?? '';
    const users = await Promise.all(Array.from({ length: 8 }, (_, index) => signUpForAccessToken(url, `bench-load-${process.pid}-${index}`)));
    let next = 0;
    const loginLoad = (durationSeconds: number) =>
      runLoad({
        url: `${url}/v1/login`,
        method: 'POST',
        connections: loginConnections,
        durationSeconds,
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          const user = users[next++ % users.length]!;
          return { ...request, body: JSON.stringify({ username: user.username, password: user.password }) };
        },
      });

    // The machine's capacity drifts (other tenants): each round measures argon2id alone and then
    // the logins back to back, and the ratio is taken per round.
    const rounds: Array<{ argon2PerSecond: number; loginsPerSecond: number }> = [];
    for (let round = 1; round <= options.rounds; round += 1) {
      options.log(`  round ${round}/${options.rounds}: argon2id alone at the server pool size, then password-step logins…`);
      const argon2PerSecond = await measureArgon2Verifies({ concurrency: availableParallelism(), durationMs: options.durationSeconds * 1000 });
      const logins = await loginLoad(options.durationSeconds);
      if (logins.errors > 0 || logins.non2xx > logins.requestsPerSecond) throw new Error(`logins failed under load: ${JSON.stringify(logins)}`);
      rounds.push({ argon2PerSecond, loginsPerSecond: logins.requestsPerSecond });
    }

    options.log('  GET /healthz and GET /v1/me latency while logins saturate the server…');
    const accessToken = users[0]?.accessToken ?? '';
    const probe = async (path: string, headers: Record<string, string>) => {
      const [load, latency] = await Promise.all([loginLoad(options.durationSeconds), new Promise((resolve) => setTimeout(resolve, 500)).then(() => probeLatency(`${url}${path}`, headers, options.durationSeconds * 1000 - 1000))]);
      if (latency.failures > 0) throw new Error(`${path} failed ${latency.failures} times under load`);
      return { p99Ms: latency.p99Ms, loginsPerSecond: load.requestsPerSecond };
    };
    const healthz = await probe('/healthz', {});
    // Fresh tokens: the one from sign-up may be close to the idle limit by now.
    const me = await probe('/v1/me', { authorization: `Bearer ${accessToken}` });

    options.log('  a burst of 1,000 concurrent logins…');
    const burst = await loginBurst(url, users[0]!, 1000);
    return {
      loginsPerSecond: median(rounds.map((round) => round.loginsPerSecond)),
      argon2PerSecond: median(rounds.map((round) => round.argon2PerSecond)),
      loginRatio: median(rounds.map((round) => round.loginsPerSecond / round.argon2PerSecond)),
      healthzP99Ms: healthz.p99Ms,
      meP99Ms: me.p99Ms,
      loginsDuringProbe: (healthz.loginsPerSecond + me.loginsPerSecond) / 2,
      burst: { ...burst, peakRssMb: peakResidentMegabytes(server.pids[0] ?? 0) },
    };
  } finally {
    await server.stop();
  }
}

async function loginBurst(url: string, user: { username: string; password: string }, count: number): Promise<Omit<LoadFigures['burst'], 'peakRssMb'>> {
  const agent = new Agent({ keepAlive: false, maxSockets: count });
  const body = JSON.stringify({ username: user.username, password: user.password });
  const answers = await Promise.all(
    Array.from({ length: count }, () => send(`${url}/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, agent }).catch(() => ({ status: 0, headers: {} as Record<string, string | undefined> }))),
  );
  agent.destroy();
  const busy = answers.filter((answer) => answer.status === 503);
  return {
    ok: answers.filter((answer) => answer.status === 200).length,
    busy: busy.length,
    busyWithRetryAfter: busy.filter((answer) => answer.headers['retry-after'] !== undefined).length,
    other: answers.filter((answer) => answer.status !== 200 && answer.status !== 503).length,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await measureServerUnderLoad({ durationSeconds: 5, rounds: 1, log: (message) => process.stderr.write(`${message}\n`) });
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}
