// Twofold against Better Auth: the same register-with-TOTP and two-factor login flow,
// and the same authenticated "who am I" request, on both, in the same run.
//   better-auth:         Twofold flows/s ÷ Better Auth flows/s             (target ≥ 5)
//   better-auth-session: Twofold GET /v1/me req/s ÷ Better Auth get-session req/s (target ≥ 10)
// Twofold runs at its OWASP argon2id defaults; Better Auth at its defaults (scrypt N=16384 r=16);
// both with their throttles/rate limiters off. Each side runs alone while it is measured, at the
// same client concurrency. Standalone: `npx tsx bench/better-auth.ts [--quick]`.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { generateTotpCode, totpStepAt } from '../src/core/totp/verify.js';
import { makeTempDir } from '../test/helpers/backend.js';
import { findFreePort, startServerProcess } from '../test/helpers/process.js';
import { registerUsers, runFlows, signUpForAccessToken, startInstances, summarizeFlows, type FlowResult } from './full-flow.js';
import { median } from './statistics.js';
import { takeUnspentStep } from './totp-steps.js';

/** Better Auth mounts its routes here by default. */
const basePath = '/api/auth';
const password = 'a benchmark passphrase';
const serverScript = fileURLToPath(new URL('./better-auth-server.ts', import.meta.url));

export interface BetterAuthUser {
  email: string;
  /** Base32, from the totpURI that two-factor/enable returned. */
  secret: string;
  /** Highest TOTP step this user has spent (each (user, step) is used once, as for Twofold). */
  lastStep: number;
}

export interface SessionCheckResult {
  /** Answers that were 2xx and carried the expected identity, per second. */
  requestsPerSecond: number;
  requests: number;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** 2xx answers without the expected identity (e.g. get-session's `null`). */
  mismatches: number;
}

export interface BetterAuthComparison {
  twofoldFlowsPerSecond: number;
  betterAuthFlowsPerSecond: number;
  twofoldSessionChecksPerSecond: number;
  betterAuthSessionChecksPerSecond: number;
  /** Every measurement, in the order taken (several rounds in full mode; the figures above are medians). */
  rounds: Array<{ side: 'twofold' | 'better-auth'; flow: FlowResult; session: SessionCheckResult }>;
}

// ---------------------------------------------------------------------------------------------
// Better Auth server process and HTTP client

/** Starts bench/better-auth-server.ts as its own process on a fresh SQLite file (env: e.g. BETTER_AUTH_BENCH_SQLITE). */
export async function startBetterAuth(env: Record<string, string> = {}): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = makeTempDir('better-auth-bench-');
  const port = await findFreePort();
  try {
    const server = await startServerProcess({
      command: process.execPath,
      args: ['--import', 'tsx', serverScript],
      env: { NODE_ENV: 'production', PORT: String(port), BETTER_AUTH_BENCH_DIR: dir.path, BETTER_AUTH_SECRET: randomBytes(32).toString('base64url'), ...env },
      port,
      // A process compiled by tsx on a loaded machine can take long to print its banner: a slow start is not a failure.
      readyTimeoutMs: 120_000,
    });
    return {
      url: server.baseUrl,
      async stop() {
        await server.stop();
        await dir.dispose();
      },
    };
  } catch (error) {
    await dir.dispose();
    throw error;
  }
}

/** The cookies one browser would hold: name → value, from Set-Cookie (expired ones removed). */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';');
      const separator = pair.indexOf('=');
      if (separator <= 0) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(attribute));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** A browser-like POST: JSON body, the jar's cookies and the page's Origin (Better Auth's CSRF check). */
async function authPost(url: string, path: string, body: unknown, jar: CookieJar): Promise<{ status: number; body: any }> {
  const cookie = jar.header();
  const response = await fetch(`${url}${basePath}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url, ...(cookie === '' ? {} : { cookie }) },
    body: JSON.stringify(body),
  });
  jar.store(response);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // keep the text for the error message
  }
  return { status: response.status, body: parsed };
}

const sessionCookie = 'better-auth.session_token';
const twoFactorCookie = 'better-auth.two_factor';

function secretOf(totpURI: unknown): string {
  const secret = typeof totpURI === 'string' ? new URL(totpURI).searchParams.get('secret') : null;
  if (secret === null) throw new Error(`two-factor/enable gave no usable totpURI: ${String(totpURI)}`);
  return secret;
}

/**
 * Sign up (email + password; Better Auth signs the new user in), enable TOTP (two-factor/enable
 * with the password → totpURI; 2FA is only on once two-factor/verify-totp accepts a first code),
 * sign out. Returns each user's TOTP secret.
 */
export async function registerBetterAuthUsers(url: string, count: number, concurrency: number): Promise<BetterAuthUser[]> {
  const users: BetterAuthUser[] = [];
  const batch = randomBytes(4).toString('hex');
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const email = `bench-${process.pid}-${batch}-${index}@bench.test`;
        const jar = new CookieJar();
        const fail = (what: string, answer: { status: number; body: unknown }) => new Error(`Better Auth: ${what} failed for ${email}: ${answer.status} ${JSON.stringify(answer.body)}`);
        const signUp = await authPost(url, '/sign-up/email', { email, password, name: `Bench ${index}` }, jar);
        if (signUp.status !== 200 || !jar.has(sessionCookie)) throw fail('sign-up', signUp);
        const enable = await authPost(url, '/two-factor/enable', { password }, jar);
        if (enable.status !== 200) throw fail('two-factor/enable', enable);
        const secret = secretOf(enable.body?.totpURI);
        const step = totpStepAt(Date.now());
        const verify = await authPost(url, '/two-factor/verify-totp', { code: generateTotpCode(secret, step) }, jar);
        if (verify.status !== 200) throw fail('two-factor/verify-totp (activation)', verify);
        const signOut = await authPost(url, '/sign-out', {}, jar);
        if (signOut.status !== 200) throw fail('sign-out', signOut);
        users.push({ email, secret, lastStep: step });
      }
    }),
  );
  return users;
}

/**
 * One two-factor login in a fresh cookie jar: sign-in/email answers twoFactorRedirect and sets the
 * two-factor cookie; two-factor/verify-totp with that cookie and the code sets the session cookie.
 * Returns the jar (holding the session) or why it failed.
 */
async function betterAuthLogin(url: string, user: BetterAuthUser, step: number): Promise<{ jar: CookieJar } | { error: string }> {
  const jar = new CookieJar();
  const signIn = await authPost(url, '/sign-in/email', { email: user.email, password }, jar);
  if (signIn.status !== 200 || signIn.body?.twoFactorRedirect !== true || !jar.has(twoFactorCookie)) return { error: `sign-in/email: ${signIn.status} ${JSON.stringify(signIn.body)}` };
  const verify = await authPost(url, '/two-factor/verify-totp', { code: generateTotpCode(user.secret, step) }, jar);
  if (verify.status !== 200 || typeof verify.body?.token !== 'string' || !jar.has(sessionCookie)) return { error: `two-factor/verify-totp: ${verify.status} ${JSON.stringify(verify.body)}` };
  return { jar };
}

/** Two-factor logins for durationMs with `concurrency` clients, each (user, step) used once. */
export async function runBetterAuthFlows(url: string, users: BetterAuthUser[], options: { concurrency: number; durationMs: number }): Promise<FlowResult & { firstError?: string }> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const cursor = { index: 0 };
  const deadline = Date.now() + options.durationMs;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (Date.now() < deadline) {
        const taken = takeUnspentStep(users, cursor);
        if (taken === undefined) throw new Error('ran out of Better Auth users with an unspent TOTP step; register more');
        const flowStarted = performance.now();
        const login = await betterAuthLogin(url, taken.user, taken.step);
        if ('jar' in login) latencies.push(performance.now() - flowStarted);
        else {
          errors += 1;
          firstError ??= login.error;
        }
      }
    }),
  );
  return { ...summarizeFlows(latencies, errors, started), ...(firstError === undefined ? {} : { firstError }) };
}

/** A Cookie header holding a fresh Better Auth session (one full two-factor login), and its email. */
export async function betterAuthSessionCookie(url: string): Promise<{ cookie: string; email: string }> {
  const [user] = await registerBetterAuthUsers(url, 1, 1);
  if (user === undefined) throw new Error('no Better Auth user');
  const login = await betterAuthLogin(url, user, user.lastStep + 1);
  if (!('jar' in login)) throw new Error(`Better Auth login failed: ${login.error}`);
  return { cookie: login.jar.header(), email: user.email };
}

/** A Twofold access token (register, confirm the TOTP factor with the mfa_token → tokens) and its username. */
/**
 * GETs `url` from `connections` keep-alive connections for durationMs (autocannon). An answer
 * counts only if it is 2xx and its body contains `expect` (the user's name or email): Better Auth's
 * get-session answers 200 `null` to a dead session, so the status alone proves nothing.
 * Throws when most answers are not good ones.
 */
export async function measureSessionChecks(url: string, options: { connections: number; durationMs: number; headers: Record<string, string>; expect: string }): Promise<SessionCheckResult> {
  let matched = 0;
  const result = await autocannon({
    url,
    method: 'GET',
    connections: options.connections,
    duration: options.durationMs / 1000,
    headers: options.headers,
    verifyBody: (body) => {
      const good = typeof body === 'string' && body.includes(options.expect);
      if (good) matched += 1;
      return good;
    },
  });
  // A body with the identity on a non-2xx answer would not be a session check that passed.
  const ok = Math.max(0, Math.min(matched, result['2xx']));
  const requests = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  const measured: SessionCheckResult = { requestsPerSecond: ok / result.duration, requests, ok, non2xx: result.non2xx, errors: result.errors, mismatches: result.mismatches };
  if (ok === 0 || ok < (requests + result.errors) / 2) throw new Error(`most session checks against ${url} failed: ${JSON.stringify(measured)}`);
  return measured;
}

// ---------------------------------------------------------------------------------------------
// The comparison

const log = (message: string) => process.stderr.write(`${message}\n`);

function checkFlows(side: string, flow: FlowResult & { firstError?: string }): void {
  if (flow.errors > 0) log(`  ${side}: ${flow.errors} of ${flow.flows + flow.errors} flows failed${flow.firstError === undefined ? '' : ` (first: ${flow.firstError})`}`);
  if (flow.flows === 0 || flow.errors > flow.flows) throw new Error(`${side}: most flows failed (${flow.flows} succeeded, ${flow.errors} failed)${flow.firstError === undefined ? '' : `; first: ${flow.firstError}`}`);
}

/** Users for a run: each has one unspent step at the start and one more per step boundary the run is sure to cross. */
const usersFor = (flowsPerSecond: number, durationMs: number, concurrency: number) => Math.ceil((flowsPerSecond * durationMs) / 1000 / (1 + Math.floor(durationMs / 30_000))) + 2 * concurrency;

async function measureTwofold(options: { durationMs: number; sessionMs: number; concurrency: number; connections: number }): Promise<{ flow: FlowResult; session: SessionCheckResult }> {
  // OWASP argon2id defaults (no TWOFOLD_ARGON2_* here); the throttle and the hash queue bound out of the way.
  const cluster = await startInstances('sqlite', 1, {
    TWOFOLD_THROTTLE_FREE_FAILURES: '1000',
    TWOFOLD_THROTTLE_LOCK_FAILURES: '100000',
    TWOFOLD_THROTTLE_IP_FAILURES: '1000000',
    TWOFOLD_HASH_QUEUE_LIMIT: '100000',
  });
  try {
    const url = cluster.urls[0]!;
    // Sized for 160 argon2id logins/s, above what 2 cores allow (~100/s). (registerUsers names its
    // users by index, so it cannot be called twice on one server to size the batch as Better Auth's is.)
    const users = await registerUsers(cluster.urls, usersFor(160, options.durationMs, options.concurrency), options.concurrency);
    log(`  twofold: ${users.length} users; flows for ${options.durationMs / 1000} s…`);
    const flow = await runFlows(cluster.urls, users, { concurrency: options.concurrency, durationMs: options.durationMs });
    checkFlows('twofold', flow);
    log(`  twofold: ${flow.flowsPerSecond.toFixed(1)} flows/s (p50 ${flow.p50Ms.toFixed(0)} ms, p99 ${flow.p99Ms.toFixed(0)} ms); GET /v1/me for ${options.sessionMs / 1000} s…`);
    const { accessToken, username } = await signUpForAccessToken(url, `bench-me-${process.pid}-${randomBytes(4).toString('hex')}`);
    const session = await measureSessionChecks(`${url}/v1/me`, { connections: options.connections, durationMs: options.sessionMs, headers: { authorization: `Bearer ${accessToken}` }, expect: username });
    log(`  twofold: ${session.requestsPerSecond.toFixed(0)} GET /v1/me/s (${session.non2xx} non-2xx, ${session.errors} errors)`);
    return { flow, session };
  } finally {
    await cluster.stop();
  }
}

async function measureBetterAuth(options: { durationMs: number; sessionMs: number; concurrency: number; connections: number }): Promise<{ flow: FlowResult; session: SessionCheckResult }> {
  const server = await startBetterAuth();
  try {
    // Registration costs two scrypt hashes (sign-up, enable's password check), a login one:
    // time a first batch to size the rest.
    const started = Date.now();
    const users = await registerBetterAuthUsers(server.url, options.concurrency * 2, options.concurrency);
    const estimatedFlowsPerSecond = (2 * users.length) / ((Date.now() - started) / 1000);
    const wanted = usersFor(Math.max(estimatedFlowsPerSecond * 1.5, 20), options.durationMs, options.concurrency);
    if (wanted > users.length) users.push(...(await registerBetterAuthUsers(server.url, wanted - users.length, options.concurrency)));
    log(`  better-auth: ${users.length} users; flows for ${options.durationMs / 1000} s…`);
    const flow = await runBetterAuthFlows(server.url, users, { concurrency: options.concurrency, durationMs: options.durationMs });
    checkFlows('better-auth', flow);
    log(`  better-auth: ${flow.flowsPerSecond.toFixed(1)} flows/s (p50 ${flow.p50Ms.toFixed(0)} ms, p99 ${flow.p99Ms.toFixed(0)} ms); get-session for ${options.sessionMs / 1000} s…`);
    const { cookie, email } = await betterAuthSessionCookie(server.url);
    const session = await measureSessionChecks(`${server.url}${basePath}/get-session`, { connections: options.connections, durationMs: options.sessionMs, headers: { cookie }, expect: email });
    log(`  better-auth: ${session.requestsPerSecond.toFixed(0)} get-session/s (${session.non2xx} non-2xx, ${session.errors} errors)`);
    return { flow, session };
  } finally {
    await server.stop();
  }
}

/**
 * Twofold, then Better Auth, each started fresh and alone on the machine while measured, at the
 * same client concurrency (16 login clients, 50 session-check connections). Quick: one round
 * (~1 minute); full: three alternating rounds, medians reported.
 */
export async function measureBetterAuthComparison(options: { quick: boolean }): Promise<BetterAuthComparison> {
  const settings = { durationMs: options.quick ? 6_000 : 15_000, sessionMs: options.quick ? 5_000 : 10_000, concurrency: 16, connections: 50 };
  const roundCount = options.quick ? 1 : 3;
  const rounds: BetterAuthComparison['rounds'] = [];
  for (let round = 1; round <= roundCount; round += 1) {
    // Other work on the machine skews whichever side it overlaps: the load average shows it.
    log(`better-auth comparison, round ${round} of ${roundCount}: Twofold (load average ${loadavg()[0]!.toFixed(2)})…`);
    rounds.push({ side: 'twofold', ...(await measureTwofold(settings)) });
    log(`better-auth comparison, round ${round} of ${roundCount}: Better Auth (load average ${loadavg()[0]!.toFixed(2)})…`);
    rounds.push({ side: 'better-auth', ...(await measureBetterAuth(settings)) });
  }
  const of = (side: 'twofold' | 'better-auth') => rounds.filter((entry) => entry.side === side);
  return {
    twofoldFlowsPerSecond: median(of('twofold').map((entry) => entry.flow.flowsPerSecond)),
    betterAuthFlowsPerSecond: median(of('better-auth').map((entry) => entry.flow.flowsPerSecond)),
    twofoldSessionChecksPerSecond: median(of('twofold').map((entry) => entry.session.requestsPerSecond)),
    betterAuthSessionChecksPerSecond: median(of('better-auth').map((entry) => entry.session.requestsPerSecond)),
    rounds,
  };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const result = await measureBetterAuthComparison({ quick });
  const flowRatio = result.twofoldFlowsPerSecond / result.betterAuthFlowsPerSecond;
  const sessionRatio = result.twofoldSessionChecksPerSecond / result.betterAuthSessionChecksPerSecond;
  log('');
  log(`twofold flows/s:                  ${result.twofoldFlowsPerSecond.toFixed(1)}`);
  log(`better-auth flows/s:              ${result.betterAuthFlowsPerSecond.toFixed(1)}`);
  log(`twofold GET /v1/me req/s:         ${result.twofoldSessionChecksPerSecond.toFixed(0)}`);
  log(`better-auth get-session req/s:    ${result.betterAuthSessionChecksPerSecond.toFixed(0)}`);
  log(`better-auth (flows ratio):        ×${flowRatio.toFixed(2)} (target ≥ 5)`);
  log(`better-auth-session (ratio):      ×${sessionRatio.toFixed(2)} (target ≥ 10)`);
  // Each round's pair ran back to back, so its ratios are the least exposed to load drifting.
  for (let index = 0; index + 1 < result.rounds.length; index += 2) {
    const [twofold, betterAuth] = [result.rounds[index]!, result.rounds[index + 1]!];
    log(`  round ${index / 2 + 1}: flows ×${(twofold.flow.flowsPerSecond / betterAuth.flow.flowsPerSecond).toFixed(2)}, session checks ×${(twofold.session.requestsPerSecond / betterAuth.session.requestsPerSecond).toFixed(2)}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  });
}
