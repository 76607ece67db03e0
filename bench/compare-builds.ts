// `npx tsx bench/compare-builds.ts --baseline=<checkout> [--rounds=5] [--seconds=6]`: what a change
// costs, as before and after in the same run. The baseline is another checkout of Twofold with its
// dist/ built, e.g. `git worktree add /tmp/before <ref> && (cd /tmp/before && npm ci && npm run build)`.
// Each round measures argon2id alone, then password-step logins and full two-factor flows on both
// builds (SQLite, production argon2id parameters), the order alternating between rounds so the drift
// of a shared machine falls on both. Printed: each figure per build, and after ÷ before per round.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { measureArgon2Verifies } from './argon2-baseline.js';
import { registerUsers, runFlows, signUpForAccessToken, startInstances } from './full-flow.js';
import { runLoad } from './load.js';
import { median } from './statistics.js';

const argument = (name: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const baseline = argument('baseline');
if (baseline === undefined) throw new Error('--baseline=<a checkout of Twofold with dist/ built> is required');
const rounds = Number(argument('rounds') ?? 5);
const seconds = Number(argument('seconds') ?? 6);
const builds = [
  { name: 'before', root: resolve(baseline) },
  { name: 'after', root: resolve('.') },
];
// The throttle is lifted (the same passwords are tried over and over); the hash pool is the default.
const env = { TWOFOLD_THROTTLE_FREE_FAILURES: '1000', TWOFOLD_THROTTLE_LOCK_FAILURES: '100000', TWOFOLD_THROTTLE_IP_FAILURES: '1000000' };
const log = (message: string) => process.stderr.write(`${message}\n`);

async function passwordStepLogins(root: string): Promise<number> {
  const server = await startInstances('sqlite', 1, env, root);
  try {
    const url = server.urls[0]!;
    const users = await Promise.all(Array.from({ length: 8 }, (_, index) => signUpForAccessToken(url, `compare-${process.pid}-${Date.now()}-${index}`)));
    let next = 0;
    const load = await runLoad({
      url: `${url}/v1/login`,
      method: 'POST',
      connections: 16,
      durationSeconds: seconds,
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => {
        const user = users[next++ % users.length]!;
        return { ...request, body: JSON.stringify({ username: user.username, password: user.password }) };
      },
    });
    if (load.errors > 0 || load.non2xx > 0) throw new Error(`logins failed: ${JSON.stringify(load)}`);
    return load.requestsPerSecond;
  } finally {
    await server.stop();
  }
}

async function fullFlows(root: string, argon2PerSecond: number): Promise<number> {
  const server = await startInstances('sqlite', 1, env, root);
  try {
    // As many users as argon2id could log in during the run (each flow costs at least one verify),
    // so a round measured while the machine was busier than during argon2id's turn cannot run out.
    const users = await registerUsers(server.urls, Math.ceil(argon2PerSecond * seconds) + 100, 16);
    const flow = await runFlows(server.urls, users, { concurrency: 16, durationMs: seconds * 1000 });
    if (flow.errors > 0) log(`  ${flow.errors} flows failed`);
    return flow.flowsPerSecond;
  } finally {
    await server.stop();
  }
}

const perRound: Array<Record<string, number>> = [];
for (let round = 1; round <= rounds; round += 1) {
  const argon2PerSecond = await measureArgon2Verifies({ concurrency: availableParallelism(), durationMs: seconds * 1000 });
  const figures: Record<string, number> = { argon2PerSecond };
  for (const build of round % 2 === 1 ? builds : [...builds].reverse()) {
    figures[`${build.name}.logins`] = await passwordStepLogins(build.root);
    figures[`${build.name}.flows`] = await fullFlows(build.root, argon2PerSecond);
  }
  perRound.push(figures);
  log(`round ${round}/${rounds}: ${JSON.stringify(figures)}`);
}
const ratio = (metric: string) => median(perRound.map((figures) => figures[`after.${metric}`]! / figures[`before.${metric}`]!));
const report = {
  rounds,
  seconds,
  argon2PerSecond: median(perRound.map((figures) => figures['argon2PerSecond']!)),
  passwordStepLogins: {
    before: median(perRound.map((figures) => figures['before.logins']!)),
    after: median(perRound.map((figures) => figures['after.logins']!)),
    afterOverBefore: ratio('logins'),
  },
  fullFlows: {
    before: median(perRound.map((figures) => figures['before.flows']!)),
    after: median(perRound.map((figures) => figures['after.flows']!)),
    afterOverBefore: ratio('flows'),
  },
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
