// Passkey sign-in (a passkey alone: options, one assertion, tokens) against the password + TOTP
// login flow, on one SQLite instance at production argon2id parameters, in the same run: the
// password's hash dominates the one; the other has no hash at all — an ECDSA verify and a few rows
// — so it should run several times faster and stay fast at the tail. Each client signs in with its
// own passkey (a software authenticator, test/helpers/soft-authenticator.ts), so its signature
// counter moves forward one sign-in at a time, as a person's does. The p99 target is read at the
// password flow's peak rate, started on a clock (runPasskeyFlowsAtRate); the p99 of the saturating
// clients is shown beside it.
import { createSoftAuthenticator, type SoftAuthenticator } from '../test/helpers/soft-authenticator.js';
import { post, registerUsers, runFlows, startInstances, summarizeFlows, type FlowResult } from './full-flow.js';
import { median } from './statistics.js';

const publicUrl = 'http://twofold.bench';
const password = 'a benchmark passphrase';

export interface PasskeySignInResult {
  passkeyFlowsPerSecond: number;
  /** p99 of the passkey flows over all rounds (options + assertion + tokens), ms. */
  passkeyP99Ms: number;
  passkeyP50Ms: number;
  totpFlowsPerSecond: number;
  /** p99 / p50 of passkey sign-ins started at the password + TOTP flow's peak rate (an open loop), ms. */
  atPasswordRateP99Ms: number;
  atPasswordRateP50Ms: number;
  errors: number;
}

interface PasskeyUser {
  authenticator: SoftAuthenticator;
}

async function registerPasskeyUsers(url: string, count: number, concurrency: number): Promise<PasskeyUser[]> {
  const users: PasskeyUser[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const authenticator = createSoftAuthenticator({ rpId: new URL(publicUrl).hostname, origin: publicUrl });
        const registered = await post(url, '/v1/register', { username: `bench-passkey-${process.pid}-${index}`, password });
        const enrollment = await post(url, '/v1/factors', { type: 'webauthn' }, registered.body.mfa_token);
        const credential = authenticator.register(enrollment.body.options);
        const confirmed = await post(url, `/v1/factors/${enrollment.body.factor_id}/verify`, { credential, challenge_id: enrollment.body.challenge_id }, registered.body.mfa_token);
        if (confirmed.status !== 200) throw new Error(`could not add a passkey: ${JSON.stringify(confirmed.body)}`);
        users.push({ authenticator });
      }
    }),
  );
  return users;
}

/** One sign-in: options, the assertion, tokens. */
async function signInWithPasskey(url: string, user: PasskeyUser): Promise<boolean> {
  const challenge = await post(url, '/v1/passkeys/authenticate/options', {});
  const credential = challenge.status === 200 ? user.authenticator.authenticate(challenge.body.options) : undefined;
  const signedIn = credential === undefined ? challenge : await post(url, '/v1/passkeys/authenticate', { challenge_id: challenge.body.challenge_id, credential });
  return signedIn.status === 200 && typeof signedIn.body.access_token === 'string';
}

/**
 * Sign-ins started at a fixed rate for durationMs, whatever the answers do (an open loop): the
 * latency a person sees when the server takes that many sign-ins per second, timed from when each
 * was due (a late start counts against the server, never hides a stall). Each as the user who
 * waited longest, one sign-in per user at a time.
 */
async function runPasskeyFlowsAtRate(url: string, users: PasskeyUser[], options: { perSecond: number; durationMs: number }): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  const waiting = [...users];
  const flows: Array<Promise<void>> = [];
  let errors = 0;
  const started = performance.now();
  const count = Math.floor((options.durationMs / 1000) * options.perSecond);
  for (let index = 0; index < count; index += 1) {
    const due = started + (index * 1000) / options.perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const user = waiting.shift();
    if (user === undefined) throw new Error('every passkey user is signing in at once: the server has fallen behind the rate');
    flows.push(
      signInWithPasskey(url, user).then((ok) => {
        if (ok) latencies.push(performance.now() - due);
        else errors += 1;
        waiting.push(user);
      }),
    );
  }
  await Promise.all(flows);
  return { latencies, errors };
}

/**
 * `concurrency` clients signing in for durationMs, each time as the user who waited longest (a
 * queue: one user's sign-ins never overlap, so its signature counter moves forward one at a time,
 * as a person's does). Enough users that nobody reaches TWOFOLD_SESSIONS_PER_USER: the password
 * flow's users each sign in a few times, and a passkey user signing in hundreds of times would make
 * every sign-in also end its oldest session — work no real sign-in does.
 */
async function runPasskeyFlows(url: string, users: PasskeyUser[], options: { concurrency: number; durationMs: number }, latencies: number[]): Promise<FlowResult> {
  const own: number[] = [];
  const waiting = [...users];
  let errors = 0;
  const started = Date.now();
  const deadline = started + options.durationMs;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (Date.now() < deadline) {
        const user = waiting.shift();
        if (user === undefined) throw new Error('more clients than passkey users');
        const flowStarted = performance.now();
        if (await signInWithPasskey(url, user)) own.push(performance.now() - flowStarted);
        else errors += 1;
        waiting.push(user);
      }
    }),
  );
  latencies.push(...own);
  return summarizeFlows(own, errors, started);
}

export async function measurePasskeySignIn(options: { durationMs: number; rounds: number; log: (message: string) => void }): Promise<PasskeySignInResult> {
  const concurrency = 16;
  const instances = await startInstances('sqlite', 1, { TWOFOLD_PUBLIC_URL: publicUrl });
  try {
    const url = instances.urls[0]!;
    // Up to 1,000 sign-ins/s over every round, at most 80 each (TWOFOLD_SESSIONS_PER_USER is 100).
    const passkeyUsers = await registerPasskeyUsers(url, Math.max(concurrency, Math.ceil((options.durationMs / 1000) * options.rounds * 1000 / 80)), concurrency);
    // Each password + TOTP flow spends one TOTP step of one user: enough users for up to 150 flows/s.
    const totpUsers = await registerUsers(instances.urls, Math.ceil((options.durationMs / 1000) * 150) + 50, concurrency);
    options.log(`passkey: ${passkeyUsers.length} passkey users, ${totpUsers.length} TOTP users; ${options.rounds} alternating round(s) of ${options.durationMs / 1000} s per kind of flow…`);
    const passkey: number[] = [];
    const totp: number[] = [];
    const latencies: number[] = [];
    let errors = 0;
    for (let round = 0; round < options.rounds; round += 1) {
      const passkeyFlow = await runPasskeyFlows(url, passkeyUsers, { concurrency, durationMs: options.durationMs }, latencies);
      const totpFlow = await runFlows(instances.urls, totpUsers, { concurrency, durationMs: options.durationMs });
      errors += passkeyFlow.errors + totpFlow.errors;
      passkey.push(passkeyFlow.flowsPerSecond);
      totp.push(totpFlow.flowsPerSecond);
      options.log(`  round ${round + 1}: passkey ${passkeyFlow.flowsPerSecond.toFixed(1)} flows/s (p99 ${passkeyFlow.p99Ms.toFixed(1)} ms), password + TOTP ${totpFlow.flowsPerSecond.toFixed(1)} flows/s`);
    }
    const all = summarizeFlows(latencies, 0, Date.now());
    // The latency at a load the server also bears with passwords: as many sign-ins per second as
    // the password + TOTP flow reaches at most. (At saturation a closed loop's latency is its
    // clients ÷ throughput — Little's law — set by the benchmark's 16 clients, not by a sign-in.)
    const atPasswordRate = await runPasskeyFlowsAtRate(url, passkeyUsers, { perSecond: Math.max(1, median(totp)), durationMs: options.durationMs });
    const paced = summarizeFlows(atPasswordRate.latencies, atPasswordRate.errors, Date.now());
    options.log(`  at the password flow's ${median(totp).toFixed(1)} sign-ins/s: passkey p50 ${paced.p50Ms.toFixed(1)} ms, p99 ${paced.p99Ms.toFixed(1)} ms`);
    return {
      passkeyFlowsPerSecond: median(passkey),
      passkeyP99Ms: all.p99Ms,
      passkeyP50Ms: all.p50Ms,
      totpFlowsPerSecond: median(totp),
      atPasswordRateP99Ms: paced.p99Ms,
      atPasswordRateP50Ms: paced.p50Ms,
      errors: errors + atPasswordRate.errors,
    };
  } finally {
    await instances.stop();
  }
}
