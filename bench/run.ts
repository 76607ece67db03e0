// `npm run bench` (add `-- --quick` for a short run): measures, writes bench/results/latest.json
// and prints a table. Every figure is a ratio against a baseline measured in the same run,
// because this machine is shared and noisy: absolute numbers move, ratios much less.
import { availableParallelism } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { measureArgon2Verifies } from './argon2-baseline.js';
import { registerUsers, runFlows, startInstances } from './full-flow.js';
import { testDatabaseUrl, testRedisUrl } from '../test/helpers/backend.js';
import { measureVerifyThroughput } from './verify-throughput.js';
import { measureLockedUnknownVersusLockedReal, measureResetUnknownVersusReal, measureUnknownVersusWrongPassword, type UniformityResult } from './uniform-failure.js';

interface Result {
  name: string;
  value: number;
  unit: string;
  baseline: string | null;
  baseline_value: number | null;
  ratio: number | null;
  target: number | null;
  /** closer: the nearer to target, the better (uniformity figures). */
  better: 'higher' | 'lower' | 'closer';
}

const quick = process.argv.includes('--quick');
/** `--only=verify`, `--only=flow` or `--only=uniform`: run one group. */
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const runs = (group: 'verify' | 'flow' | 'uniform') => only === undefined || only === group;
const durationMs = quick ? 4_000 : 12_000;
const concurrency = 16;
const cores = availableParallelism();
const results: Result[] = [];
const log = (message: string) => process.stderr.write(`${message}\n`);

const format = (value: number) => value.toFixed(Math.abs(value) < 10 ? 3 : 1);

function record(result: Result): void {
  results.push(result);
  log(`  ${result.name}: ${format(result.value)} ${result.unit}${result.ratio === null ? '' : ` (×${result.ratio.toFixed(2)} of ${result.baseline})`}`);
}

/** Two figures per comparison: the ratio of medians (target 1) and the AUC (target 0.5). */
function recordUniformity(name: string, baseline: string, result: UniformityResult): void {
  if (!result.identicalAnswers) log(`  ${name}: THE ANSWERS DIFFER — a failed login tells the two apart`);
  record({ name: `${name}-median`, value: result.medianMs, unit: 'ms', baseline: `${baseline}-median`, baseline_value: result.baselineMedianMs, ratio: result.medianMs / result.baselineMedianMs, target: 1, better: 'closer' });
  record({ name: `${name}-auc`, value: result.auc, unit: `AUC (${result.samples} samples each; 0.5 = indistinguishable)`, baseline: null, baseline_value: null, ratio: null, target: 0.5, better: 'closer' });
  record({ name: `${name}-identical-answers`, value: result.identicalAnswers ? 1 : 0, unit: 'boolean', baseline: null, baseline_value: null, ratio: null, target: 1, better: 'higher' });
}

async function main(): Promise<void> {
  log(`Twofold benchmarks (${quick ? 'quick' : 'full'}; ${cores} cores)`);
  if (runs('verify')) {
    log('twofold/verify: distinct tokens vs raw node:crypto Ed25519, same token vs distinct…');
    const verify = await measureVerifyThroughput({ tokensPerRound: quick ? 2_000 : 5_000, rounds: quick ? 3 : 7 });
    record({ name: 'raw-ed25519-verify', value: verify.rawPerSecond, unit: 'verifies/s', baseline: null, baseline_value: null, ratio: null, target: null, better: 'higher' });
    record({ name: 'verify-cold', value: verify.coldPerSecond, unit: 'tokens/s', baseline: 'raw-ed25519-verify', baseline_value: verify.rawPerSecond, ratio: verify.coldPerSecond / verify.rawPerSecond, target: 0.8, better: 'higher' });
    record({ name: 'verify-warm', value: verify.warmPerSecond, unit: 'tokens/s', baseline: 'verify-cold', baseline_value: verify.coldPerSecond, ratio: verify.warmPerSecond / verify.coldPerSecond, target: 20, better: 'higher' });
  }
  if (only === 'verify') return writeResults();
  log('argon2id verifications alone (the login ceiling)…');
  const argon2PerSecond = await measureArgon2Verifies({ concurrency: cores, durationMs: quick ? 2_000 : 5_000 });
  record({ name: 'argon2id-verify', value: argon2PerSecond, unit: 'verifies/s', baseline: null, baseline_value: null, ratio: null, target: null, better: 'higher' });

  const scenarios: Array<{ backend: 'sqlite' | 'postgres'; instances: number }> = [{ backend: 'sqlite', instances: 1 }];
  if (testDatabaseUrl !== undefined && testRedisUrl !== undefined) scenarios.push({ backend: 'postgres', instances: 1 }, { backend: 'postgres', instances: 3 });
  else log('PostgreSQL scenarios skipped: set TWOFOLD_TEST_DATABASE_URL and TWOFOLD_TEST_REDIS_URL');

  for (const scenario of runs('flow') ? scenarios : []) {
    const name = `full-flow-${scenario.backend}-x${scenario.instances}`;
    log(`${name}: starting ${scenario.instances} instance(s), registering users…`);
    const cluster = await startInstances(scenario.backend, scenario.instances);
    try {
      // Each user has at most two unspent TOTP steps at a time; enough users for the run.
      const users = await registerUsers(cluster.urls, Math.ceil((argon2PerSecond * durationMs) / 1000 / 1.5) + 50, concurrency);
      log(`${name}: ${users.length} users; running flows for ${durationMs / 1000} s…`);
      const flow = await runFlows(cluster.urls, users, { concurrency, durationMs });
      if (flow.errors > 0) log(`  ${flow.errors} flows failed`);
      record({ name, value: flow.flowsPerSecond, unit: 'flows/s', baseline: 'argon2id-verify', baseline_value: argon2PerSecond, ratio: flow.flowsPerSecond / argon2PerSecond, target: null, better: 'higher' });
      record({ name: `${name}-p99`, value: flow.p99Ms, unit: 'ms', baseline: `${name}-p50`, baseline_value: flow.p50Ms, ratio: flow.p99Ms / flow.p50Ms, target: null, better: 'lower' });
    } finally {
      await cluster.stop();
    }
  }

  if (runs('uniform')) {
    log('uniform failure: unknown username vs wrong password, locked unknown vs locked real, wrong reset code (LG-01/02/03)…');
    // Hashing logins take ~20 ms each; the others ~3 ms, so they get more samples for the same time.
    const samples = quick ? 60 : 300;
    recordUniformity('login-failure-unknown-vs-wrong-password', 'wrong-password', await measureUnknownVersusWrongPassword(samples));
    recordUniformity('login-failure-locked-unknown-vs-locked-real', 'locked-real', await measureLockedUnknownVersusLockedReal(samples * 4));
    recordUniformity('reset-failure-unknown-vs-real', 'real-account', await measureResetUnknownVersusReal(samples * 3));
  }

  writeResults();
}

function writeResults(): void {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/latest${only === undefined ? '' : `-${only}`}.json`;
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log('\n| benchmark | value | baseline | ratio |\n|---|---|---|---|');
  for (const result of results) {
    const baseline = result.baseline === null ? '—' : `${result.baseline} = ${result.baseline_value === null ? '' : format(result.baseline_value)}`;
    log(`| ${result.name} | ${format(result.value)} ${result.unit} | ${baseline} | ${result.ratio === null ? '—' : result.ratio.toFixed(2)} |`);
  }
  log(`\nwritten to ${file}`);
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
