// The OpenID Provider's overhead over Twofold's own API, on one SQLite instance at production
// argon2id parameters, in the same run: full authorization-code logins per second (authorize,
// the hosted sign-in with password and TOTP, the code exchanged) against the JSON API's login
// flow (password, TOTP, tokens) with the same users; the token endpoint's p99 while those logins
// saturate the server; and userinfo against GET /v1/me for one signed-in person (50 connections
// each). The bounds are measured in the same run: the API's own token-issuing step (POST
// /v1/mfa/verify) under its login load, the latency the machine gives a token answer while the
// hashes take both cores; and oidc-provider alone (bare-oidc-provider-server.ts: its memory
// adapter, no database, no Twofold code) — its userinfo, the most a provider built on its request
// pipeline answers here; its leanest two-factor login; and that login made of Twofold's JSON API
// (the composition: the pipeline's cost plus Twofold's login, which any provider doing Twofold's
// login on oidc-provider pays).
import { findFreePort, runCommand, startServerProcess } from '../test/helpers/process.js';
import { OidcBrowser } from '../test/helpers/oidc-browser.js';
import * as client from 'openid-client';
import { generateTotpCode, totpStepAt } from '../src/core/totp/verify.js';
import { post, registerUsers, runFlows, runTotpFlows, signUpForAccessToken, startInstances, type BenchUser, type FlowResult } from './full-flow.js';
import { runLoad } from './load.js';
import { median, percentile } from './statistics.js';
import { processCpu } from './thread-cpu.js';

const publicUrl = 'http://twofold.bench';
const clientId = 'bench-app';
const redirectUri = 'https://bench-app.example/callback';
const password = 'a benchmark passphrase';

export interface OidcLoginResult {
  apiFlowsPerSecond: number;
  oidcFlowsPerSecond: number;
  /** The bare provider's leanest two-factor login (bare-oidc-provider-server.ts): what the pipeline allows. */
  bareFlowsPerSecond: number;
  /** The bare provider with Twofold's JSON API as its login: the least a provider doing Twofold's login on oidc-provider costs. */
  composedFlowsPerSecond: number;
  /** Of the code exchanges made during the OIDC flows, under their login load. */
  tokenP99Ms: number;
  tokenExchanges: number;
  /** Of the API flows' POST /v1/mfa/verify (it issues the tokens), under their own login load. */
  apiVerifyP99Ms: number;
  /** oidc-provider alone (no database, no Twofold code): the pipeline's bound. */
  bareUserinfoPerSecond: number;
  userinfoPerSecond: number;
  mePerSecond: number;
  /** CPU ms per flow (all rounds): the server's event loop, and this load generator, which shares the machine's cores. */
  cpuPerFlow: { apiEventLoopMs: number; oidcEventLoopMs: number; bareEventLoopMs: number; composedEventLoopMs: number; apiLoadGeneratorMs: number; oidcLoadGeneratorMs: number; bareLoadGeneratorMs: number; composedLoadGeneratorMs: number };
  errors: number;
}

/** CPU ms the server's event loop and this process spend while `run` runs, and its result. */
async function withCpu<T>(serverPids: readonly number[], run: () => Promise<T>): Promise<{ result: T; eventLoopMs: number; loadGeneratorMs: number }> {
  const eventLoops = () => serverPids.reduce((sum, pid) => sum + processCpu(pid).mainMs, 0);
  const serversBefore = eventLoops();
  const before = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(before);
  return { result, eventLoopMs: eventLoops() - serversBefore, loadGeneratorMs: (used.user + used.system) / 1000 };
}

/** The bench client's authorization request with a new PKCE verifier, and that verifier. */
async function authorizationRequest(): Promise<{ path: string; verifier: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const query = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'bench',
  });
  return { path: `/oidc/auth?${query}`, verifier };
}

/** Through the provider: authorize, the hosted sign-in with the password and `secondFactor`'s form, back with a code. */
async function codeThroughPages(instance: string, username: string, secondFactor: Record<string, string>): Promise<{ code: string; verifier: string } | undefined> {
  const browser = new OidcBrowser(publicUrl, [instance]);
  const { path, verifier } = await authorizationRequest();
  await browser.follow(path);
  const afterPassword = await browser.follow('/sign-in', { method: 'POST', form: { csrf: browser.csrf(), username, password } });
  if (new URL(afterPassword.url).pathname !== '/sign-in/verify') return undefined;
  const back = await browser.follow('/sign-in/verify', { method: 'POST', form: { csrf: browser.csrf(), ...secondFactor } });
  const code = new URL(back.url).searchParams.get('code');
  return code === null ? undefined : { code, verifier };
}

async function exchangeCode(instance: string, { code, verifier }: { code: string; verifier: string }): Promise<{ status: number; tokens: { id_token?: string; access_token?: string } }> {
  const exchanged = await fetch(`${instance}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_id: clientId }).toString(),
  });
  return { status: exchanged.status, tokens: (await exchanged.json()) as { id_token?: string; access_token?: string } };
}

export function runOidcFlows(instance: string, users: BenchUser[], options: { concurrency: number; durationMs: number }, tokenLatencies: number[]): Promise<FlowResult> {
  return runTotpFlows(users, options, async (user, step) => {
    const authorized = await codeThroughPages(instance, user.username, { code: generateTotpCode(user.secret, step) });
    if (authorized === undefined) return false;
    const exchangeStarted = performance.now();
    const { status, tokens } = await exchangeCode(instance, authorized);
    tokenLatencies.push(performance.now() - exchangeStarted);
    return status === 200 && typeof tokens.id_token === 'string';
  });
}

/** An opaque access token of the provider for a new person, signed in through the pages with a recovery code. */
export async function providerAccessToken(instance: string): Promise<string> {
  const username = `bench-userinfo-oidc-${process.pid}`;
  const registered = await post(instance, '/v1/register', { username, password });
  const confirmed = await post(instance, `/v1/factors/${registered.body.totp.factor_id}/verify`, { code: generateTotpCode(registered.body.totp.secret, totpStepAt(Date.now())) }, registered.body.mfa_token);
  const [recoveryCode] = confirmed.body.recovery_codes as string[];
  const authorized = await codeThroughPages(instance, username, { recovery_code: recoveryCode! });
  const { tokens } = authorized === undefined ? { tokens: {} as { access_token?: string } } : await exchangeCode(instance, authorized);
  if (typeof tokens.access_token !== 'string') throw new Error(`no provider access token: ${JSON.stringify(tokens)}`);
  return tokens.access_token;
}

/** oidc-provider alone, as its own process (bare-oidc-provider-server.ts), knowing `users`; its login made of Twofold's JSON API at `twofoldApi` when given. */
async function startBareProvider(users: readonly BenchUser[], twofoldApi?: string): Promise<{ baseUrl: string; pid: number; stop(): Promise<void> }> {
  const port = await findFreePort();
  const env = { PORT: String(port), NODE_ENV: 'production', ...(twofoldApi === undefined ? {} : { TWOFOLD_API_URL: twofoldApi }) };
  const server = await startServerProcess({ command: process.execPath, args: ['--import', 'tsx', 'bench/bare-oidc-provider-server.ts'], env, port, readyTimeoutMs: 120_000 });
  const known = await fetch(`${server.baseUrl}/users`, { method: 'POST', body: JSON.stringify(users.map(({ username, secret }) => ({ username, secret }))) });
  if (known.status !== 200) throw new Error(`the bare provider did not take the bench users: ${known.status}`);
  return { baseUrl: server.baseUrl, pid: server.child.pid ?? 0, stop: async () => void (await server.stop()) };
}

/** Userinfo requests per second of the bare provider (same 50 connections). */
async function measureBareProviderUserinfo(baseUrl: string, loadSeconds: number): Promise<number> {
  const token = await (await fetch(`${baseUrl}/token`)).text();
  const load = await runLoad({ url: `${baseUrl}/oidc/me`, connections: 50, durationSeconds: loadSeconds, headers: { authorization: `Bearer ${token}` } });
  if (load.non2xx > 0) throw new Error(`the bare provider's userinfo answered ${load.non2xx} non-2xx`);
  return load.requestsPerSecond;
}

/** The bare provider's login: authorize, its login page, password, TOTP code, resume, the code exchanged. */
function runBareProviderFlows(baseUrl: string, users: BenchUser[], options: { concurrency: number; durationMs: number }): Promise<FlowResult> {
  return runTotpFlows(users, options, async (user, step) => {
    const browser = new OidcBrowser(baseUrl);
    const { path, verifier } = await authorizationRequest();
    const loginPage = await browser.follow(path);
    const interaction = new URL(loginPage.url).pathname;
    if (loginPage.response.status !== 200 || !interaction.startsWith('/interaction/')) return false;
    const codePage = await browser.request(`${interaction}/password`, { method: 'POST', form: { username: user.username, password } });
    if (codePage.status !== 200) return false;
    const back = await browser.follow(`${interaction}/otp`, { method: 'POST', form: { code: generateTotpCode(user.secret, step) } });
    const code = new URL(back.url).searchParams.get('code');
    if (code === null) return false;
    const { status, tokens } = await exchangeCode(baseUrl, { code, verifier });
    return status === 200 && typeof tokens.id_token === 'string';
  });
}

/** One kind of login flow measured in alternating rounds: its rates, and the CPU it cost per flow. */
class FlowKind {
  readonly rates: number[] = [];
  private flows = 0;
  private eventLoopMs = 0;
  private loadGeneratorMs = 0;

  constructor(
    readonly label: string,
    /** The processes whose event loops serve this kind of flow. */
    private readonly serverPids: readonly number[],
    private readonly run: () => Promise<FlowResult>,
  ) {}

  /** One round; its flows that failed. */
  async round(): Promise<FlowResult> {
    const measured = await withCpu(this.serverPids, this.run);
    this.rates.push(measured.result.flowsPerSecond);
    this.flows += measured.result.flows;
    this.eventLoopMs += measured.eventLoopMs;
    this.loadGeneratorMs += measured.loadGeneratorMs;
    return measured.result;
  }

  cpuPerFlow(): { eventLoopMs: number; loadGeneratorMs: number } {
    return { eventLoopMs: this.eventLoopMs / this.flows, loadGeneratorMs: this.loadGeneratorMs / this.flows };
  }
}

export async function measureOidcLogin(options: { durationMs: number; rounds: number; loadSeconds: number; log: (message: string) => void }): Promise<OidcLoginResult> {
  const concurrency = 16;
  const instances = await startInstances('sqlite', 1, { TWOFOLD_OIDC: 'on', TWOFOLD_PUBLIC_URL: publicUrl });
  const bounds: Array<{ stop(): Promise<void> }> = [];
  try {
    const env = { TWOFOLD_DATA_DIR: instances.dataDir, TWOFOLD_ENCRYPTION_KEY: instances.encryptionKey, TWOFOLD_PUBLIC_URL: publicUrl, TWOFOLD_OIDC: 'on', TWOFOLD_LOG_LEVEL: 'error' };
    const added = await runCommand(process.execPath, ['dist/cli/main.js', 'clients', 'add', '--id', clientId, '--redirect-uri', redirectUri, '--first-party'], env);
    if (added.code !== 0) throw new Error(`could not register the bench client: ${added.stderr}`);
    const instance = instances.urls[0]!;
    // Each flow spends one TOTP step of one user, and a user has at most two unspent steps in any
    // half minute: enough users for the three kinds of flow that sign in at Twofold, at up to 150
    // flows/s within one window.
    const users = await registerUsers(instances.urls, Math.ceil((options.durationMs / 1000) * 150 * 3) + 50, concurrency);
    // The bare provider checks the codes itself and keeps no record of them: its own copies.
    const bareUsers = users.map((user) => ({ ...user }));
    const bare = await startBareProvider(bareUsers);
    bounds.push(bare);
    const composed = await startBareProvider([], instance);
    bounds.push(composed);
    options.log(`oidc: ${users.length} users; ${options.rounds} alternating round(s) of ${options.durationMs / 1000} s per kind of flow…`);
    const tokenLatencies: number[] = [];
    const verifyLatencies: number[] = [];
    const serverPid = instances.pids[0]!;
    const flowOptions = { concurrency, durationMs: options.durationMs };
    const kinds = {
      api: new FlowKind('API', [serverPid], () => runFlows(instances.urls, users, flowOptions, verifyLatencies)),
      oidc: new FlowKind('provider', [serverPid], () => runOidcFlows(instance, users, flowOptions, tokenLatencies)),
      bare: new FlowKind('bare oidc-provider', [bare.pid], () => runBareProviderFlows(bare.baseUrl, bareUsers, flowOptions)),
      composed: new FlowKind("bare oidc-provider + Twofold's API", [composed.pid, serverPid], () => runBareProviderFlows(composed.baseUrl, users, flowOptions)),
    };
    let errors = 0;
    for (let round = 0; round < options.rounds; round += 1) {
      const rates: string[] = [];
      for (const kind of Object.values(kinds)) {
        const result = await kind.round();
        errors += result.errors;
        rates.push(`${kind.label} ${result.flowsPerSecond.toFixed(1)} flows/s`);
      }
      options.log(`  round ${round + 1}: ${rates.join(', ')}`);
    }

    options.log('oidc: userinfo vs GET /v1/me for one signed-in person (50 connections)…');
    const person = await signUpForAccessToken(instance, `bench-userinfo-${process.pid}`);
    const providerToken = await providerAccessToken(instance);
    const userinfo = await runLoad({ url: `${instance}/oidc/me`, connections: 50, durationSeconds: options.loadSeconds, headers: { authorization: `Bearer ${providerToken}` } });
    const me = await runLoad({ url: `${instance}/v1/me`, connections: 50, durationSeconds: options.loadSeconds, headers: { authorization: `Bearer ${person.accessToken}` } });
    const bareUserinfo = await measureBareProviderUserinfo(bare.baseUrl, options.loadSeconds);
    if (userinfo.non2xx > 0 || me.non2xx > 0) throw new Error(`userinfo answered ${userinfo.non2xx}, /v1/me ${me.non2xx} non-2xx`);
    const cpu = { api: kinds.api.cpuPerFlow(), oidc: kinds.oidc.cpuPerFlow(), bare: kinds.bare.cpuPerFlow(), composed: kinds.composed.cpuPerFlow() };
    return {
      apiFlowsPerSecond: median(kinds.api.rates),
      oidcFlowsPerSecond: median(kinds.oidc.rates),
      bareFlowsPerSecond: median(kinds.bare.rates),
      composedFlowsPerSecond: median(kinds.composed.rates),
      tokenP99Ms: percentile(tokenLatencies, 99),
      tokenExchanges: tokenLatencies.length,
      apiVerifyP99Ms: percentile(verifyLatencies, 99),
      bareUserinfoPerSecond: bareUserinfo,
      userinfoPerSecond: userinfo.requestsPerSecond,
      mePerSecond: me.requestsPerSecond,
      cpuPerFlow: {
        apiEventLoopMs: cpu.api.eventLoopMs,
        oidcEventLoopMs: cpu.oidc.eventLoopMs,
        bareEventLoopMs: cpu.bare.eventLoopMs,
        composedEventLoopMs: cpu.composed.eventLoopMs,
        apiLoadGeneratorMs: cpu.api.loadGeneratorMs,
        oidcLoadGeneratorMs: cpu.oidc.loadGeneratorMs,
        bareLoadGeneratorMs: cpu.bare.loadGeneratorMs,
        composedLoadGeneratorMs: cpu.composed.loadGeneratorMs,
      },
      errors,
    };
  } finally {
    await Promise.all(bounds.map((bound) => bound.stop()));
    await instances.stop();
  }
}
