// `npm run bench` (add `-- --quick` for about a minute per group, `-- --only=<group>` for one
// group, `-- --report` to redraw the document from the last results): measures, shows progress, writes bench/results/latest.json and rewrites the results in
// docs/benchmarks.md with a chart (docs/benchmarks.svg). Every figure is a ratio against a
// baseline measured in the same run, because this machine is shared and noisy: absolute numbers
// move, ratios much less. Benchmarks never run as timed test assertions; CI runs `--quick` only
// as a smoke check that the harness works.
import { availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { measureArgon2Verifies } from './argon2-baseline.js';
import { measureBetterAuthComparison } from './better-auth.js';
import { registerUsers, runFlows, startInstances } from './full-flow.js';
import { measureProtectedRoute } from './protected-route.js';
import { measureDpopProofCheck } from './dpop-proof-check.js';
import { measureDpopRoute } from './dpop-route.js';
import { measureForwardAuth } from './forward-auth.js';
import { writeReport } from './report.js';
import { formatNumber, meetsTarget, type BenchResult } from './result.js';
import { measureServerUnderLoad } from './server-under-load.js';
import { measureMemoryStoreScaling } from './memory-store.js';
import { measurePerUserListing } from './per-user-lists.js';
import { measureSessionsOfOneUser } from './sessions-of-one-user.js';
import { measureLockedUnknownVersusLockedReal, measureResetUnknownVersusReal, measureUnknownVersusWrongPassword, type UniformityResult } from './uniform-failure.js';
import { measureVerifyThroughput } from './verify-throughput.js';
import { measureNextRequestAfterForgot } from './forgot-next-request.js';
import { measureOidcLogin } from './oidc-login.js';
import { measurePasskeySignIn } from './passkey-sign-in.js';
import { measureImportThroughput } from './import-throughput.js';
import { measureAdminSearch, type SearchBackend } from './admin-search.js';
import { testDatabaseUrl, testRedisUrl } from '../test/helpers/backend.js';

const groups = ['verify', 'load', 'flow', 'better-auth', 'uniform', 'store', 'lists', 'oidc', 'passkey', 'dpop', 'forward-auth', 'admin', 'import'] as const;
type Group = (typeof groups)[number];

const quick = process.argv.includes('--quick');
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length) as Group | undefined;
if (only !== undefined && !groups.includes(only)) throw new Error(`--only takes one of ${groups.join(', ')}`);
const cores = availableParallelism();
const results: BenchResult[] = [];
const log = (message: string) => process.stderr.write(`${message}\n`);

function record(result: BenchResult): void {
  results.push(result);
  const met = meetsTarget(result);
  log(`  ${result.name}: ${formatNumber(result.value)} ${result.unit}${result.ratio === null ? '' : ` (×${result.ratio.toFixed(2)} of ${result.baseline})`}${met === undefined ? '' : met ? ' — target met' : ` — TARGET MISSED (${result.target})`}`);
}

const figure = (name: string, value: number, unit: string, better: BenchResult['better'], target: number | null = null): BenchResult => ({ name, value, unit, baseline: null, baseline_value: null, ratio: null, target, better });
const against = (name: string, value: number, unit: string, baseline: string, baselineValue: number, target: number | null, better: BenchResult['better'] = 'higher'): BenchResult => ({
  name,
  value,
  unit,
  baseline,
  baseline_value: baselineValue,
  ratio: value / baselineValue,
  target,
  better,
});

async function verifyGroup(): Promise<void> {
  log('verify: twofold/verify on distinct tokens vs raw node:crypto Ed25519, the same token vs distinct ones…');
  const verify = await measureVerifyThroughput({ tokensPerRound: quick ? 2_000 : 5_000, rounds: quick ? 3 : 7 });
  record(figure('raw-ed25519-verify', verify.rawPerSecond, 'verifies/s', 'higher'));
  record(against('verify-cold', verify.coldPerSecond, 'tokens/s', 'raw-ed25519-verify', verify.rawPerSecond, 0.8));
  record(against('verify-warm', verify.warmPerSecond, 'tokens/s', 'verify-cold', verify.coldPerSecond, 20));
  log('verify: a Fastify route guarded by twofold/verify vs the same route open (autocannon, 50 connections)…');
  const route = await measureProtectedRoute({ rounds: quick ? 2 : 5, durationSeconds: quick ? 2 : 5 });
  record(figure('unguarded-route', route.openPerSecond, 'requests/s', 'higher'));
  record({ ...against('protected-route', route.guardedPerSecond, 'requests/s', 'unguarded-route', route.openPerSecond, 0.7), ratio: route.ratio });
}

async function loadGroup(): Promise<void> {
  log('load: one SQLite instance at production argon2id parameters…');
  const load = await measureServerUnderLoad({ durationSeconds: quick ? 3 : 6, rounds: quick ? 1 : 3, log });
  record(figure('argon2id-verify-pool', load.argon2PerSecond, 'verifies/s', 'higher'));
  record({ ...against('login-password-step', load.loginsPerSecond, 'logins/s', 'argon2id-verify-pool', load.argon2PerSecond, 0.85), ratio: load.loginRatio });
  record(figure('event-loop', load.healthzP99Ms, `ms p99 of GET /healthz (${formatNumber(load.loginsDuringProbe)} logins/s alongside)`, 'lower', 25));
  record(figure('verify-under-login', load.meP99Ms, 'ms p99 of GET /v1/me under the same login load', 'lower', 25));
  record(figure('memory', load.burst.peakRssMb, `MB peak RSS (1,000 concurrent logins: ${load.burst.ok} served, ${load.burst.busyWithRetryAfter} answered 503 with Retry-After, ${load.burst.other} other)`, 'lower', 300));
  if (load.burst.other > 0 || load.burst.busy !== load.burst.busyWithRetryAfter) log('  the burst got answers other than 200 and 503 with Retry-After');
}

async function flowGroup(): Promise<void> {
  const durationMs = quick ? 4_000 : 12_000;
  const concurrency = 16;
  log('flow: argon2id verifications alone (the login ceiling)…');
  const argon2PerSecond = await measureArgon2Verifies({ concurrency: cores, durationMs: quick ? 2_000 : 5_000 });
  record(figure('argon2id-verify', argon2PerSecond, 'verifies/s', 'higher'));
  const scenarios: Array<{ backend: 'sqlite' | 'postgres'; instances: number }> = [{ backend: 'sqlite', instances: 1 }];
  if (testDatabaseUrl !== undefined && testRedisUrl !== undefined) scenarios.push({ backend: 'postgres', instances: 1 }, { backend: 'postgres', instances: 3 });
  else log('  PostgreSQL scenarios skipped: set TWOFOLD_TEST_DATABASE_URL and TWOFOLD_TEST_REDIS_URL');
  for (const scenario of scenarios) {
    const name = `full-flow-${scenario.backend}-x${scenario.instances}`;
    log(`${name}: starting ${scenario.instances} instance(s), registering users…`);
    const cluster = await startInstances(scenario.backend, scenario.instances);
    try {
      // Each user has at most two unspent TOTP steps at a time; enough users for the run.
      const users = await registerUsers(cluster.urls, Math.ceil((argon2PerSecond * durationMs) / 1000 / 1.5) + 50, concurrency);
      log(`${name}: ${users.length} users; running flows for ${durationMs / 1000} s…`);
      const flow = await runFlows(cluster.urls, users, { concurrency, durationMs });
      if (flow.errors > 0) log(`  ${flow.errors} flows failed`);
      record(against(name, flow.flowsPerSecond, 'flows/s (login + TOTP + tokens)', 'argon2id-verify', argon2PerSecond, null));
      record(against(`${name}-p99`, flow.p99Ms, 'ms', `${name}-p50`, flow.p50Ms, null, 'lower'));
    } finally {
      await cluster.stop();
    }
  }
}

async function betterAuthGroup(): Promise<void> {
  log('better-auth: the same two-factor flow and session check on Better Auth (twoFactor plugin, SQLite, its defaults), rate limiting off for both…');
  const comparison = await measureBetterAuthComparison({ quick });
  record(figure('better-auth-flows', comparison.betterAuthFlowsPerSecond, 'flows/s (sign-in + TOTP, scrypt N=16384 r=16)', 'higher'));
  record(against('better-auth', comparison.twofoldFlowsPerSecond, 'flows/s (Twofold login + TOTP + tokens, argon2id OWASP)', 'better-auth-flows', comparison.betterAuthFlowsPerSecond, 5));
  record(figure('better-auth-get-session', comparison.betterAuthSessionChecksPerSecond, 'requests/s (get-session, 50 connections)', 'higher'));
  record(against('better-auth-session', comparison.twofoldSessionChecksPerSecond, 'requests/s (Twofold GET /v1/me, 50 connections)', 'better-auth-get-session', comparison.betterAuthSessionChecksPerSecond, 10));
}

/** Two figures per comparison, both "lower is better" with 0 = indistinguishable. */
function recordUniformity(name: string, baseline: string, result: UniformityResult): void {
  if (!result.identicalAnswers) log(`  ${name}: THE ANSWERS DIFFER — a failed login tells the two apart`);
  record({ ...against(`${name}-median-gap`, Math.abs(result.medianMs / result.baselineMedianMs - 1), `relative difference of medians (${formatNumber(result.medianMs)} ms vs ${formatNumber(result.baselineMedianMs)} ms)`, `${baseline}-median`, result.baselineMedianMs, 0.1, 'lower'), ratio: null });
  record(figure(`${name}-distinguishability`, Math.abs(result.auc - 0.5) * 2, `|AUC − 0.5| × 2 (AUC ${result.auc.toFixed(3)}, ${result.samples} samples each; 0 = indistinguishable)`, 'lower', 0.2));
  record(figure(`${name}-identical-answers`, result.identicalAnswers ? 1 : 0, 'boolean (1 = same status and body)', 'higher', 1));
}

async function uniformGroup(): Promise<void> {
  log('uniform: unknown username vs wrong password, locked unknown vs locked real, wrong reset code (LG-01/02/03)…');
  // Hashing logins take ~20 ms each; the others ~3 ms, so they get more samples for the same time.
  const samples = quick ? 60 : 300;
  recordUniformity('login-failure-unknown-vs-wrong-password', 'wrong-password', await measureUnknownVersusWrongPassword(samples));
  recordUniformity('login-failure-locked-unknown-vs-locked-real', 'locked-real', await measureLockedUnknownVersusLockedReal(samples * 4));
  recordUniformity('reset-failure-unknown-vs-real', 'real-account', await measureResetUnknownVersusReal(samples * 3));
  log('uniform: the request after a forgot-password on the same connection, real account vs unknown name…');
  recordUniformity('forgot-next-request-real-vs-unknown', 'after-unknown', await measureNextRequestAfterForgot(samples * 2));
}

async function storeGroup(): Promise<void> {
  log('store: the in-memory store, one failed login for a made-up username at 1 k … 1 M live keys, full (evicting) and expiring, and a bare Map as the floor (RC-05)…');
  const sizes = { full: [1_000, 10_000, 100_000, 1_000_000], expiring: [1_000, 1_000_000], 'bare-map': [1_000, 1_000_000] };
  const scaling = await measureMemoryStoreScaling({ sizes, operations: quick ? 100_000 : 300_000, rounds: quick ? 1 : 3 });
  const label = (size: number) => (size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1_000}k`);
  const unit = 'ns CPU per failed login for a made-up name (store work only)';
  for (const state of ['full', 'expiring', 'bare-map'] as const) {
    const [smallest = 0, ...larger] = sizes[state];
    const name = (size: number) => (state === 'bare-map' ? `bare-map-${label(size)}` : `memory-store-${state}-${label(size)}`);
    const baselineValue = scaling.nsPerOperation[state].get(smallest) ?? Number.NaN;
    const unitOf = state === 'bare-map' ? 'ns CPU for the same lookups, insert and delete on a bare Map' : unit;
    record(figure(name(smallest), baselineValue, unitOf, 'lower'));
    // The bare Map is the hardware's own growth (cache misses): measured, not a target.
    for (const size of larger) record(against(name(size), scaling.nsPerOperation[state].get(size) ?? Number.NaN, unitOf, name(smallest), baselineValue, state === 'bare-map' ? null : 2, 'lower'));
  }
  // What the store adds to the floor at the largest size: expiry heap, recency list, bound.
  const largest = sizes.full.at(-1) ?? 0;
  const bareMapLargest = scaling.nsPerOperation['bare-map'].get(largest) ?? Number.NaN;
  record(against(`memory-store-over-bare-map-${label(largest)}`, scaling.nsPerOperation.full.get(largest) ?? Number.NaN, unit, `bare-map-${label(largest)}`, bareMapLargest, 2, 'lower'));
}

async function listsGroup(): Promise<void> {
  log('lists: one page (50) of one user\'s security events and sessions at 1 k … 1 M rows of that user, SQLite…');
  const sizes = [1_000, 10_000, 100_000, 1_000_000];
  const listing = await measurePerUserListing({ sizes, pagesPerRound: quick ? 200 : 1_000, rounds: quick ? 3 : 7, log });
  const label = (size: number) => (size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1_000}k`);
  for (const list of ['events', 'sessions'] as const) {
    const values = listing.microsecondsPerPage[list];
    const [smallest = 0, ...larger] = sizes;
    const unit = `µs CPU per page of 50 (GET /v1/${list === 'events' ? 'me/events' : 'sessions'}'s query, first page and a cursor)`;
    const baselineValue = values.get(smallest) ?? Number.NaN;
    record(figure(`${list}-page-${label(smallest)}`, baselineValue, unit, 'lower'));
    for (const size of larger) record(against(`${list}-page-${label(size)}`, values.get(size) ?? Number.NaN, unit, `${list}-page-${label(smallest)}`, baselineValue, 2, 'lower'));
  }
  log('lists: one user with 10,000 signed-in sessions — GET /v1/sessions and sign out everywhere…');
  const many = await measureSessionsOfOneUser({ sessions: 10_000, listRounds: quick ? 5 : 15 });
  record(figure('sessions-10k-list', many.listMs, `ms for GET /v1/sessions (${many.listedSessions} listed, ${formatNumber(many.listBytes)} bytes)`, 'lower'));
  record(figure('sessions-10k-sign-out-everywhere', many.signOutMs, `ms for DELETE /v1/sessions (${many.sessionsEnded} ended)`, 'lower'));
  record(figure('sessions-10k-sign-out-longest-hold', many.signOutLongestBlockMs, 'ms, the longest the event loop was held at once during it', 'lower', 50));
}

async function oidcGroup(): Promise<void> {
  log('oidc: the OpenID Provider — authorization-code logins through the hosted pages vs the JSON API login flow, the token endpoint under that load, userinfo vs GET /v1/me (one SQLite instance, production argon2id)…');
  const oidc = await measureOidcLogin({ durationMs: quick ? 4_000 : 12_000, rounds: quick ? 1 : 3, loadSeconds: quick ? 2 : 5, log });
  if (oidc.errors > 0) log(`  ${oidc.errors} flows failed`);
  record(figure('api-login-flow', oidc.apiFlowsPerSecond, 'flows/s (POST /v1/login + /v1/mfa/verify, 16 clients)', 'higher'));
  record(against('oidc-login-flow', oidc.oidcFlowsPerSecond, 'flows/s (authorize, sign-in pages with password + TOTP, code exchange; 16 clients)', 'api-login-flow', oidc.apiFlowsPerSecond, 0.85));
  record(against('bare-provider-login-flow', oidc.bareFlowsPerSecond, 'flows/s (oidc-provider alone: memory adapter, a login page, password, TOTP, resume, code exchange; no database, no Twofold code; the bound of its request pipeline)', 'api-login-flow', oidc.apiFlowsPerSecond, null));
  record(against('composed-provider-login-flow', oidc.composedFlowsPerSecond, 'flows/s (the same bare provider whose password and code steps are POST /v1/login and /v1/mfa/verify: oidc-provider’s pipeline plus Twofold’s own login, joined over loopback HTTP: what a provider doing Twofold’s login on oidc-provider costs at the least, give or take those two internal calls)', 'api-login-flow', oidc.apiFlowsPerSecond, null));
  record(against('oidc-login-flow-of-composed', oidc.oidcFlowsPerSecond, 'flows/s (the provider login, as above)', 'composed-provider-login-flow', oidc.composedFlowsPerSecond, null));
  record(figure('oidc-token-under-login', oidc.tokenP99Ms, `ms p99 of the code exchange at /oidc/token while those logins saturate the server (${oidc.tokenExchanges} exchanges)`, 'lower', 25));
  // Both kinds of flow share two cores with argon2id and with this load generator: what each flow costs the event loop, and the generator itself.
  const cpu = oidc.cpuPerFlow;
  record(figure('api-login-flow-event-loop-cpu', cpu.apiEventLoopMs, 'ms of the server event loop’s CPU per API login flow (the hash runs on other threads)', 'lower'));
  record(figure('oidc-login-flow-event-loop-cpu', cpu.oidcEventLoopMs, 'ms of the server event loop’s CPU per provider login flow', 'lower'));
  record(figure('api-login-flow-load-generator-cpu', cpu.apiLoadGeneratorMs, 'ms of the load generator’s own CPU per API login flow (2 requests), on the same cores as the server', 'lower'));
  record(figure('oidc-login-flow-load-generator-cpu', cpu.oidcLoadGeneratorMs, 'ms of the load generator’s own CPU per provider login flow (9 requests, cookies, PKCE), on the same cores', 'lower'));
  record(figure('bare-provider-login-flow-event-loop-cpu', cpu.bareEventLoopMs, 'ms of the bare provider’s event-loop CPU per login flow', 'lower'));
  record(figure('bare-provider-login-flow-load-generator-cpu', cpu.bareLoadGeneratorMs, 'ms of the load generator’s own CPU per bare provider login flow (6 requests, cookies, PKCE), on the same cores', 'lower'));
  record(figure('composed-provider-login-flow-event-loop-cpu', cpu.composedEventLoopMs, 'ms of the event loops’ CPU per composed login flow (the bare provider’s and Twofold’s together)', 'lower'));
  record(figure('composed-provider-login-flow-load-generator-cpu', cpu.composedLoadGeneratorMs, 'ms of the load generator’s own CPU per composed login flow (6 requests, cookies, PKCE), on the same cores', 'lower'));
  record(figure('api-verify-under-login', oidc.apiVerifyP99Ms, 'ms p99 of POST /v1/mfa/verify (it issues the tokens) while the API logins saturate the server: the bound the machine sets on a token answer under that load', 'lower'));
  record(figure('me-requests', oidc.mePerSecond, 'requests/s (GET /v1/me, 50 connections)', 'higher'));
  record(against('oidc-userinfo', oidc.userinfoPerSecond, 'requests/s (GET /oidc/me with the provider’s access token, 50 connections)', 'me-requests', oidc.mePerSecond, 0.8));
  record(against('bare-provider-userinfo', oidc.bareUserinfoPerSecond, 'requests/s (oidc-provider alone: memory adapter, no database, no Twofold code; the bound of its request pipeline)', 'me-requests', oidc.mePerSecond, null));
  record(against('oidc-userinfo-of-bound', oidc.userinfoPerSecond, 'requests/s (GET /oidc/me, as above)', 'bare-provider-userinfo', oidc.bareUserinfoPerSecond, null));
}

async function passkeyGroup(): Promise<void> {
  log('passkey: sign-in with a passkey alone (options, assertion, tokens) vs the password + TOTP login flow (one SQLite instance, production argon2id, 16 clients)…');
  const passkey = await measurePasskeySignIn({ durationMs: quick ? 4_000 : 12_000, rounds: quick ? 1 : 3, log });
  if (passkey.errors > 0) log(`  ${passkey.errors} flows failed`);
  record(figure('password-totp-flow', passkey.totpFlowsPerSecond, 'flows/s (POST /v1/login + /v1/mfa/verify, 16 clients)', 'higher'));
  record(against('passkey-sign-in', passkey.passkeyFlowsPerSecond, 'flows/s (POST /v1/passkeys/authenticate/options + /v1/passkeys/authenticate, 16 clients)', 'password-totp-flow', passkey.totpFlowsPerSecond, 5));
  record(figure('passkey-sign-in-p99', passkey.atPasswordRateP99Ms, `ms p99 of a whole passkey sign-in, started at the password flow's peak rate (p50 ${formatNumber(passkey.atPasswordRateP50Ms)} ms)`, 'lower', 25));
  record(figure('passkey-sign-in-p99-saturated', passkey.passkeyP99Ms, `ms p99 of a whole passkey sign-in among the 16 saturating clients (p50 ${formatNumber(passkey.passkeyP50Ms)} ms: 16 ÷ the throughput)`, 'lower'));
}

async function dpopGroup(): Promise<void> {
  log('dpop: checking DPoP proofs (every one new) vs raw node:crypto ES256 verification of the same signatures…');
  const proofs = await measureDpopProofCheck({ proofsPerRound: quick ? 2_000 : 5_000, rounds: quick ? 3 : 7 });
  record(figure('raw-es256-verify', proofs.rawPerSecond, 'verifies/s', 'higher'));
  record(against('dpop-proof-check', proofs.checkedPerSecond, 'proofs/s (parse, key, signature, claims, ath, jti claimed)', 'raw-es256-verify', proofs.rawPerSecond, 0.8));
  log('dpop: a twofold/verify route with DPoP-bound tokens vs bearer tokens, and the floor (bearer + one raw ES256 verify; autocannon, 50 connections)…');
  const route = await measureDpopRoute({ rounds: quick ? 2 : 5, durationSeconds: quick ? 2 : 5, maxRequestsPerSecond: 8_000 });
  record(figure('bearer-route', route.bearerPerSecond, 'requests/s (twofold/verify, bearer tokens)', 'higher'));
  record({ ...against('dpop-route', route.dpopPerSecond, 'requests/s (twofold/verify, DPoP-bound tokens, a new proof per request)', 'bearer-route', route.bearerPerSecond, 0.5), ratio: route.dpopRatio });
  record({ ...against('dpop-floor-route', route.floorPerSecond, 'requests/s (the bearer route + one raw ES256 verify per request: the least DPoP can cost)', 'bearer-route', route.bearerPerSecond, null), ratio: route.floorRatio });
  record(against('dpop-route-of-floor', route.dpopPerSecond, 'requests/s (as dpop-route)', 'dpop-floor-route', route.floorPerSecond, null));
}

async function forwardAuthGroup(): Promise<void> {
  log('forward-auth: decisions (GET /v1/forward-auth/nginx with a forward-auth cookie) vs GET /healthz of the same process, and nginx with the README snippet vs nginx alone, in front of a static upstream (autocannon, 50 connections)…');
  const figures = await measureForwardAuth({ rounds: quick ? 1 : 5, durationSeconds: quick ? 2 : 5 });
  record(figure('twofold-unguarded-route', figures.unguardedPerSecond, 'requests/s (GET /healthz)', 'higher'));
  record({ ...against('forward-auth-decision', figures.decisionsPerSecond, 'decisions/s (GET /v1/forward-auth/nginx, the cookies of 50 people)', 'twofold-unguarded-route', figures.unguardedPerSecond, 0.7), ratio: figures.decisionRatio });
  record(against('forward-auth-token-decision', figures.tokenDecisionsPerSecond, 'decisions/s (the same for API clients: access tokens of 10 users)', 'twofold-unguarded-route', figures.unguardedPerSecond, null));
  record(figure('forward-auth-decision-p99', figures.decisionP99Ms, `ms p99 of a decision, 50 connections offering 1,000 decisions/s (GET /healthz alike: ${formatNumber(figures.unguardedPacedP99Ms)} ms)`, 'lower', 5));
  record(figure('forward-auth-decision-p99-saturated', figures.saturatedP99Ms, 'ms p99 of a decision, 50 connections as fast as answered', 'lower'));
  record(figure('nginx-alone', figures.nginxAlonePerSecond, 'requests/s (nginx proxying to a static upstream)', 'higher'));
  record({ ...against('nginx-with-twofold', figures.nginxWithTwofoldPerSecond, 'requests/s (the same, with the README snippet asking Twofold first)', 'nginx-alone', figures.nginxAlonePerSecond, 0.5), ratio: figures.nginxRatio });
}

async function adminGroup(): Promise<void> {
  // --admin-users=N measures on fewer users (a check that the harness works; --quick takes 100,000); the figures are for 1,000,000.
  const users = Number(process.argv.find((arg) => arg.startsWith('--admin-users='))?.slice('--admin-users='.length) ?? (quick ? 100_000 : 1_000_000));
  const backends: SearchBackend[] = ['sqlite', ...(testDatabaseUrl === undefined ? [] : ['postgres' as const])];
  if (testDatabaseUrl === undefined) log('admin: TWOFOLD_TEST_DATABASE_URL is not set — PostgreSQL skipped');
  for (const backend of backends) {
    log(`admin: the admin user search (GET /v1/admin/users) over ${users.toLocaleString('en')} generated users, ${backend}…`);
    const search = await measureAdminSearch({ backend, users, searchesPerKind: quick ? 50 : 300, log });
    const size = users >= 1_000_000 ? `${users / 1_000_000}M` : `${users / 1_000}k`;
    record(figure(`admin-search-generate-${backend}-${size}`, search.generateSeconds, `s to generate ${users.toLocaleString('en')} users (70% with an app) in SQL`, 'lower'));
    for (const [kind, p99] of search.p99MsByKind) record(figure(`admin-search-${kind}-${backend}-${size}`, p99, 'ms p99 of one search (a page of 50)', 'lower', 50));
    record(figure(`admin-search-p99-${backend}-${size}`, search.p99Ms, 'ms p99 over every kind of search (a page of 50)', 'lower', 50));
  }
}

async function importGroup(): Promise<void> {
  const users = quick ? 10_000 : 100_000;
  log(`import: twofold import of ${users.toLocaleString('en')} generated users (bcrypt and scrypt hashes, half with TOTP; not re-hashed at import) vs bare one-row transactions…`);
  const backends = testDatabaseUrl === undefined ? (['sqlite'] as const) : (['sqlite', 'postgres'] as const);
  for (const backend of backends) {
    const result = await measureImportThroughput({ users, backend, log });
    record(figure(`bare-user-insert-${backend}`, result.bareInsertsPerSecond, 'users/s (one committed transaction each)', 'higher'));
    record(against(`import-${backend}`, result.importedPerSecond, 'users/s (parse, cap, seal TOTP, user + factor + ledger rows per person, savepoints in batched transactions)', `bare-user-insert-${backend}`, result.bareInsertsPerSecond, null));
  }
}

const runners: Record<Group, () => Promise<void>> = { verify: verifyGroup, load: loadGroup, flow: flowGroup, 'better-auth': betterAuthGroup, uniform: uniformGroup, store: storeGroup, lists: listsGroup, oidc: oidcGroup, passkey: passkeyGroup, dpop: dpopGroup, 'forward-auth': forwardAuthGroup, admin: adminGroup, import: importGroup };

async function main(): Promise<void> {
  if (process.argv.includes('--report')) {
    // Redraw docs/benchmarks.md and the chart from bench/results/latest.json without measuring.
    writeReport(readResults('bench/results/latest.json'), readContextLine() ?? `Measured on ${cores} cores (Node ${process.version}).`);
    log('docs/benchmarks.md and docs/benchmarks.svg rewritten from bench/results/latest.json');
    return;
  }
  log(`Twofold benchmarks (${quick ? 'quick' : 'full'}; ${cores} cores; ${only === undefined ? 'all groups' : `group ${only}`})`);
  for (const group of groups) if (only === undefined || only === group) await runners[group]();
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/latest${only === undefined ? '' : `-${only}`}.json`;
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nwritten to ${file}`);
  // The document shows full runs only: a quick run must not replace it. A full run of one group
  // refreshes that group's rows in bench/results/latest.json and the document.
  if (!quick) {
    const merged = only === undefined ? results : mergeResults(readResults('bench/results/latest.json'), results);
    if (only !== undefined) writeFileSync('bench/results/latest.json', `${JSON.stringify(merged, null, 2)}\n`);
    writeReport(merged, `Measured ${new Date().toISOString().slice(0, 10)} on ${cores} cores (Node ${process.version}); a full \`npm run bench\`${only === undefined ? '' : ', with groups re-run since replacing their rows'}.`);
    log('docs/benchmarks.md and docs/benchmarks.svg rewritten');
  }
  const missed = results.filter((result) => meetsTarget(result) === false).map((result) => result.name);
  log(missed.length === 0 ? 'every target met' : `targets missed: ${missed.join(', ')}`);
}

/** The "Measured …" line of the current document, kept when only redrawing. */
function readContextLine(): string | undefined {
  try {
    return /^Measured .*$/m.exec(readFileSync('docs/benchmarks.md', 'utf8'))?.[0];
  } catch {
    return undefined;
  }
}

function readResults(path: string): BenchResult[] {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BenchResult[];
  } catch {
    return [];
  }
}

/** The earlier results with every figure measured now replaced in place (new ones appended). */
function mergeResults(earlier: BenchResult[], now: BenchResult[]): BenchResult[] {
  const fresh = new Map(now.map((result) => [result.name, result]));
  const merged = earlier.map((result) => fresh.get(result.name) ?? result);
  return [...merged, ...now.filter((result) => !earlier.some((old) => old.name === result.name))];
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
