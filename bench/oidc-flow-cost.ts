// `npx tsx bench/oidc-flow-cost.ts [--seconds=8] [--concurrency=16] [--rounds=2] [--strace] [--root=<checkout>]`:
// where a login's time goes, per flow, for the JSON API's login flow and the OpenID Provider's
// (bench/oidc-login.ts) on one SQLite instance at production argon2id: the server's event-loop
// CPU, its other threads' CPU (the argon2 hashes), and the CPU of this load generator itself —
// it shares the machine's cores with the server, so what it spends per flow is capacity the
// server does not get. With --strace the durable commits (fsync/fdatasync) per flow are counted
// too (strace slows the server: the CPU figures of that run are not comparable).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { registerUsers, runFlows, startInstances, type BenchUser } from './full-flow.js';
import { runOidcFlows } from './oidc-login.js';
import { runCommand } from '../test/helpers/process.js';
import { processCpu } from './thread-cpu.js';

const argument = (name: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const seconds = Number(argument('seconds') ?? 8);
const concurrency = Number(argument('concurrency') ?? 16);
const rounds = Number(argument('rounds') ?? 2);
const withStrace = process.argv.includes('--strace');
/** --cpu-prof=<dir>: the server writes a V8 CPU profile there when it stops. */
const cpuProfileDir = argument('cpu-prof');
/** --require=<file>: a CommonJS module the server loads first (a counter of calls, say). */
const preload = argument('require');
/** --root=<checkout>: measure that checkout's dist/ (a baseline for a before-and-after comparison). */
const root = argument('root') ?? '.';
/** --kinds=oidc: measure only these kinds of flow. */
const kindsWanted = (argument('kinds') ?? 'api,oidc').split(',');
const publicUrl = 'http://twofold.bench';
const log = (message: string) => process.stderr.write(`${message}\n`);

async function countSyncs<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; syncs: number }> {
  const tracer = spawn('strace', ['-f', '-c', '-e', 'trace=fsync,fdatasync', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let report = '';
  tracer.stderr.on('data', (chunk: Buffer) => (report += chunk.toString()));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const result = await work();
  const exited = new Promise((resolve) => tracer.on('exit', resolve));
  tracer.kill('SIGINT');
  await exited;
  const syncs = [...report.matchAll(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(?:fsync|fdatasync)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
  return { result, syncs };
}

async function main(): Promise<void> {
  const instances = await startInstances('sqlite', 1, {
    TWOFOLD_OIDC: 'on',
    TWOFOLD_PUBLIC_URL: publicUrl,
  }, root, [...(cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`]), ...(preload === undefined ? [] : ['--require', preload])]);
  try {
    const env = { TWOFOLD_DATA_DIR: instances.dataDir, TWOFOLD_ENCRYPTION_KEY: instances.encryptionKey, TWOFOLD_PUBLIC_URL: publicUrl, TWOFOLD_OIDC: 'on', TWOFOLD_LOG_LEVEL: 'error' };
    const added = await runCommand(process.execPath, [join(root, 'dist/cli/main.js'), 'clients', 'add', '--id', 'bench-app', '--redirect-uri', 'https://bench-app.example/callback', '--first-party'], env);
    if (added.code !== 0) throw new Error(`could not register the bench client: ${added.stderr}`);
    const url = instances.urls[0]!;
    const pid = instances.pids[0]!;
    const users: BenchUser[] = await registerUsers(instances.urls, Math.ceil(seconds * 150 * 2 * rounds) + 50, 16);
    const kinds = {
      api: () => runFlows(instances.urls, users, { concurrency, durationMs: seconds * 1000 }),
      oidc: () => runOidcFlows(url, users, { concurrency, durationMs: seconds * 1000 }, []),
    };
    for (let round = 0; round < rounds; round += 1) {
      for (const [kind, run] of Object.entries(kinds)) {
        if (!kindsWanted.includes(kind)) continue;
        const serverBefore = processCpu(pid);
        const clientBefore = process.cpuUsage();
        const { result, syncs } = withStrace ? await countSyncs(pid, run) : { result: await run(), syncs: NaN };
        const client = process.cpuUsage(clientBefore);
        const serverAfter = processCpu(pid);
        const flows = result.flows;
        const per = (ms: number) => (ms / flows).toFixed(2);
        log(
          `${kind.padEnd(4)} ${result.flowsPerSecond.toFixed(1).padStart(6)} flows/s (${flows} flows, ${result.errors} errors): per flow ` +
            `event loop ${per(serverAfter.mainMs - serverBefore.mainMs)} ms, other server threads ${per(serverAfter.otherMs - serverBefore.otherMs)} ms, ` +
            `load generator ${per((client.user + client.system) / 1000)} ms${withStrace ? `, syncs ${(syncs / flows).toFixed(2)}` : ''}`,
        );
      }
    }
  } finally {
    await instances.stop();
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
