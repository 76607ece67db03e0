// LG-01/02/03: a failed login (or password reset) must not tell whether the username exists. The answers are compared
// byte for byte, and their timings — unknown username vs wrong password (both pay one argon2id
// verification: the unknown one against a dummy hash), and a locked unknown vs a locked real
// account (both refused before any hashing) — are interleaved in random order against one real
// server process, so machine noise falls on both sides alike. Reported as the ratio of medians and
// as the AUC (the chance that a sample of one kind is slower than a sample of the other: 0.5 means
// indistinguishable; a timing oracle pushes it towards 0 or 1).
import { randomBytes } from 'node:crypto';
import { post, startInstances } from './full-flow.js';
import { median } from './statistics.js';

export interface UniformityResult {
  medianMs: number;
  baselineMedianMs: number;
  auc: number;
  samples: number;
  /** Every answer of both kinds had the same status and body. */
  identicalAnswers: boolean;
}

const password = 'a benchmark passphrase';

/** Mann-Whitney AUC: P(a > b) + P(a = b) / 2 over all pairs. */
export function areaUnderCurve(a: number[], b: number[]): number {
  let wins = 0;
  for (const x of a) for (const y of b) wins += x > y ? 1 : x === y ? 0.5 : 0;
  return wins / (a.length * b.length);
}

type FailingRequest = (username: string) => { path: string; body: Record<string, string> };

const loginRequest: FailingRequest = (username) => ({ path: '/v1/login', body: { username, password: 'not the password at all' } });
const resetRequest: FailingRequest = (username) => ({ path: '/v1/password/reset', body: { username, code: 'AAAAA-BBBBB-CCCCC-DDDDD', new_password: 'a brand new passphrase' } });

/** Times `samples` logins of each kind, in shuffled order; the answers must all be alike. */
async function compareFailures(url: string, samples: number, kinds: { measured: () => string; baseline: () => string }, expectedStatus: number, request = loginRequest): Promise<UniformityResult> {
  const order = [...Array<'measured'>(samples).fill('measured'), ...Array<'baseline'>(samples).fill('baseline')].sort(() => Math.random() - 0.5);
  const times = { measured: [] as number[], baseline: [] as number[] };
  const answers = new Set<string>();
  for (const kind of order) {
    const started = performance.now();
    const { path, body } = request(kinds[kind]());
    const answer = await post(url, path, body);
    times[kind].push(performance.now() - started);
    answers.add(JSON.stringify([answer.status, answer.body]));
    if (answer.status !== expectedStatus) throw new Error(`expected ${expectedStatus}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return {
    medianMs: median(times.measured),
    baselineMedianMs: median(times.baseline),
    auc: areaUnderCurve(times.measured, times.baseline),
    samples,
    identicalAnswers: answers.size === 1,
  };
}

/** Unknown username vs wrong password, at production argon2id parameters (throttle set aside). */
export async function measureUnknownVersusWrongPassword(samples: number): Promise<UniformityResult> {
  const cluster = await startInstances('sqlite', 1, { TWOFOLD_THROTTLE_FREE_FAILURES: '1000', TWOFOLD_THROTTLE_LOCK_FAILURES: '100000', TWOFOLD_THROTTLE_IP_FAILURES: '1000000' });
  try {
    const url = cluster.urls[0]!;
    const username = `uniform-${randomBytes(4).toString('hex')}`;
    await post(url, '/v1/register', { username, password });
    // A few of each first, unmeasured: the first hashes warm the allocator and the JIT.
    await compareFailures(url, 5, { measured: () => `nobody-${randomBytes(6).toString('hex')}`, baseline: () => username }, 401);
    return await compareFailures(url, samples, { measured: () => `nobody-${randomBytes(6).toString('hex')}`, baseline: () => username }, 401);
  } finally {
    await cluster.stop();
  }
}

/** A locked unknown username vs a locked real account (both refused before hashing). */
export async function measureLockedUnknownVersusLockedReal(samples: number): Promise<UniformityResult> {
  const cluster = await startInstances('sqlite', 1, { TWOFOLD_THROTTLE_FREE_FAILURES: '1', TWOFOLD_THROTTLE_LOCK_FAILURES: '2', TWOFOLD_THROTTLE_IP_FAILURES: '1000000' });
  try {
    const url = cluster.urls[0]!;
    const real = `uniform-${randomBytes(4).toString('hex')}`;
    const unknown = `nobody-${randomBytes(6).toString('hex')}`;
    await post(url, '/v1/register', { username: real, password });
    for (const username of [real, unknown]) {
      for (let attempt = 0; attempt < 2; attempt += 1) await post(url, '/v1/login', { username, password: 'not the password at all' });
    }
    return await compareFailures(url, samples, { measured: () => unknown, baseline: () => real }, 429);
  } finally {
    await cluster.stop();
  }
}

/** A wrong reset code for a name that does not exist vs for a real account with a reset pending. */
export async function measureResetUnknownVersusReal(samples: number): Promise<UniformityResult> {
  const cluster = await startInstances('sqlite', 1, { TWOFOLD_THROTTLE_FREE_FAILURES: '1000', TWOFOLD_THROTTLE_LOCK_FAILURES: '100000', TWOFOLD_THROTTLE_IP_FAILURES: '1000000' });
  try {
    const url = cluster.urls[0]!;
    const real = `uniform-${randomBytes(4).toString('hex')}`;
    await post(url, '/v1/register', { username: real, password, email: `${real}@example.com` });
    await post(url, '/v1/password/forgot', { username: real });
    await compareFailures(url, 5, { measured: () => `nobody-${randomBytes(6).toString('hex')}`, baseline: () => real }, 401, resetRequest);
    return await compareFailures(url, samples, { measured: () => `nobody-${randomBytes(6).toString('hex')}`, baseline: () => real }, 401, resetRequest);
  } finally {
    await cluster.stop();
  }
}
