// Passkey sign-in (a passkey alone: options, one assertion, tokens) against the password + TOTP
// login flow, on one SQLite instance at production argon2id parameters, in the same run: the
// password's hash dominates the one; the other has no hash at all — an ECDSA verify and a few rows
// — so it should run several times faster and stay fast at the tail. Each client signs in with its
// own passkey (a software authenticator, test/helpers/soft-authenticator.ts), so its signature
// counter moves forward one sign-in at a time, as a person's does.
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
  errors: number;
}

interface PasskeyUser {
  authenticator: SoftAuthenticator;
}

async function registerPasskeyUsers(url: string, count: number): Promise<PasskeyUser[]> {
  const users: PasskeyUser[] = [];
  for (let index = 0; index < count; index += 1) {
    const authenticator = createSoftAuthenticator({ rpId: new URL(publicUrl).hostname, origin: publicUrl });
    const registered = await post(url, '/v1/register', { username: `bench-passkey-${process.pid}-${index}`, password });
    const enrollment = await post(url, '/v1/factors', { type: 'webauthn' }, registered.body.mfa_token);
    const credential = authenticator.register(enrollment.body.options);
    const confirmed = await post(url, `/v1/factors/${enrollment.body.factor_id}/verify`, { credential, challenge_id: enrollment.body.challenge_id }, registered.body.mfa_token);
    if (confirmed.status !== 200) throw new Error(`could not add a passkey: ${JSON.stringify(confirmed.body)}`);
    users.push({ authenticator });
  }
  return users;
}

/** One client per user, each signing in with its own passkey again and again for durationMs. */
async function runPasskeyFlows(url: string, users: PasskeyUser[], durationMs: number, latencies: number[]): Promise<FlowResult> {
  const own: number[] = [];
  let errors = 0;
  const started = Date.now();
  const deadline = started + durationMs;
  await Promise.all(
    users.map(async (user) => {
      while (Date.now() < deadline) {
        const flowStarted = performance.now();
        const options = await post(url, '/v1/passkeys/authenticate/options', {});
        const credential = options.status === 200 ? user.authenticator.authenticate(options.body.options) : undefined;
        const signedIn = credential === undefined ? options : await post(url, '/v1/passkeys/authenticate', { challenge_id: options.body.challenge_id, credential });
        if (signedIn.status === 200 && typeof signedIn.body.access_token === 'string') own.push(performance.now() - flowStarted);
        else errors += 1;
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
    const passkeyUsers = await registerPasskeyUsers(url, concurrency);
    // Each password + TOTP flow spends one TOTP step of one user: enough users for up to 150 flows/s.
    const totpUsers = await registerUsers(instances.urls, Math.ceil((options.durationMs / 1000) * 150) + 50, concurrency);
    options.log(`passkey: ${passkeyUsers.length} passkey users, ${totpUsers.length} TOTP users; ${options.rounds} alternating round(s) of ${options.durationMs / 1000} s per kind of flow…`);
    const passkey: number[] = [];
    const totp: number[] = [];
    const latencies: number[] = [];
    let errors = 0;
    for (let round = 0; round < options.rounds; round += 1) {
      const passkeyFlow = await runPasskeyFlows(url, passkeyUsers, options.durationMs, latencies);
      const totpFlow = await runFlows(instances.urls, totpUsers, { concurrency, durationMs: options.durationMs });
      errors += passkeyFlow.errors + totpFlow.errors;
      passkey.push(passkeyFlow.flowsPerSecond);
      totp.push(totpFlow.flowsPerSecond);
      options.log(`  round ${round + 1}: passkey ${passkeyFlow.flowsPerSecond.toFixed(1)} flows/s (p99 ${passkeyFlow.p99Ms.toFixed(1)} ms), password + TOTP ${totpFlow.flowsPerSecond.toFixed(1)} flows/s`);
    }
    const all = summarizeFlows(latencies, 0, Date.now());
    return { passkeyFlowsPerSecond: median(passkey), passkeyP99Ms: all.p99Ms, passkeyP50Ms: all.p50Ms, totpFlowsPerSecond: median(totp), errors };
  } finally {
    await instances.stop();
  }
}
