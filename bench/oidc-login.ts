// The OpenID Provider's overhead over Twofold's own API, on one SQLite instance at production
// argon2id parameters, in the same run: full authorization-code logins per second (authorize,
// the hosted sign-in with password and TOTP, the code exchanged) against the JSON API's login
// flow (password, TOTP, tokens) with the same users — the hash dominates both, what is left is
// the provider; the token endpoint's p99 while those logins saturate the server; and userinfo
// against GET /v1/me for one signed-in person (50 connections each). Two bounds are measured in the
// same run: the API's own token-issuing step (POST /v1/mfa/verify) under its login load, the
// latency the machine gives a token answer while the hashes take both cores; and userinfo from
// oidc-provider alone (bare-oidc-provider-server.ts: its memory adapter, no database, no Twofold
// code), the most a provider built on its request pipeline answers here.
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
  cpuPerFlow: { apiEventLoopMs: number; oidcEventLoopMs: number; apiLoadGeneratorMs: number; oidcLoadGeneratorMs: number };
  errors: number;
}

/** CPU ms the server's event loop and this process spend while `run` runs, and its result. */
async function withCpu<T>(serverPid: number, run: () => Promise<T>): Promise<{ result: T; eventLoopMs: number; loadGeneratorMs: number }> {
  const serverBefore = processCpu(serverPid);
  const before = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(before);
  return { result, eventLoopMs: processCpu(serverPid).mainMs - serverBefore.mainMs, loadGeneratorMs: (used.user + used.system) / 1000 };
}

/** Through the provider: authorize, the hosted sign-in with the password and `secondFactor`'s form, back with a code. */
async function codeThroughPages(instance: string, username: string, secondFactor: Record<string, string>): Promise<{ code: string; verifier: string } | undefined> {
  const browser = new OidcBrowser(publicUrl, [instance]);
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
  await browser.follow(`/oidc/auth?${query}`);
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

/** Userinfo requests per second of oidc-provider alone, as its own process (same 50 connections). */
async function measureBareProviderUserinfo(loadSeconds: number): Promise<number> {
  const port = await findFreePort();
  const server = await startServerProcess({ command: process.execPath, args: ['--import', 'tsx', 'bench/bare-oidc-provider-server.ts'], env: { PORT: String(port), NODE_ENV: 'production' }, port, readyTimeoutMs: 120_000 });
  try {
    const token = await (await fetch(`${server.baseUrl}/token`)).text();
    const load = await runLoad({ url: `${server.baseUrl}/oidc/me`, connections: 50, durationSeconds: loadSeconds, headers: { authorization: `Bearer ${token}` } });
    if (load.non2xx > 0) throw new Error(`the bare provider's userinfo answered ${load.non2xx} non-2xx`);
    return load.requestsPerSecond;
  } finally {
    await server.stop();
  }
}

export async function measureOidcLogin(options: { durationMs: number; rounds: number; loadSeconds: number; log: (message: string) => void }): Promise<OidcLoginResult> {
  const concurrency = 16;
  const instances = await startInstances('sqlite', 1, { TWOFOLD_OIDC: 'on', TWOFOLD_PUBLIC_URL: publicUrl });
  try {
    const env = { TWOFOLD_DATA_DIR: instances.dataDir, TWOFOLD_ENCRYPTION_KEY: instances.encryptionKey, TWOFOLD_PUBLIC_URL: publicUrl, TWOFOLD_OIDC: 'on', TWOFOLD_LOG_LEVEL: 'error' };
    const added = await runCommand(process.execPath, ['dist/cli/main.js', 'clients', 'add', '--id', clientId, '--redirect-uri', redirectUri, '--first-party'], env);
    if (added.code !== 0) throw new Error(`could not register the bench client: ${added.stderr}`);
    const instance = instances.urls[0]!;
    // Each flow spends one TOTP step of one user, and a user has at most two unspent steps in any
    // half minute: enough users for both kinds of flow at up to 150 flows/s within one window.
    const users = await registerUsers(instances.urls, Math.ceil((options.durationMs / 1000) * 150 * 2) + 50, concurrency);
    options.log(`oidc: ${users.length} users; ${options.rounds} alternating round(s) of ${options.durationMs / 1000} s per kind of flow…`);
    const api: number[] = [];
    const oidc: number[] = [];
    const tokenLatencies: number[] = [];
    const verifyLatencies: number[] = [];
    let errors = 0;
    const cpu = { apiFlows: 0, oidcFlows: 0, apiEventLoopMs: 0, oidcEventLoopMs: 0, apiLoadGeneratorMs: 0, oidcLoadGeneratorMs: 0 };
    const serverPid = instances.pids[0]!;
    for (let round = 0; round < options.rounds; round += 1) {
      const apiRun = await withCpu(serverPid, () => runFlows(instances.urls, users, { concurrency, durationMs: options.durationMs }, verifyLatencies));
      const providerRun = await withCpu(serverPid, () => runOidcFlows(instance, users, { concurrency, durationMs: options.durationMs }, tokenLatencies));
      const [apiFlow, oidcFlow] = [apiRun.result, providerRun.result];
      cpu.apiFlows += apiFlow.flows;
      cpu.oidcFlows += oidcFlow.flows;
      cpu.apiEventLoopMs += apiRun.eventLoopMs;
      cpu.oidcEventLoopMs += providerRun.eventLoopMs;
      cpu.apiLoadGeneratorMs += apiRun.loadGeneratorMs;
      cpu.oidcLoadGeneratorMs += providerRun.loadGeneratorMs;
      errors += apiFlow.errors + oidcFlow.errors;
      api.push(apiFlow.flowsPerSecond);
      oidc.push(oidcFlow.flowsPerSecond);
      options.log(`  round ${round + 1}: API ${apiFlow.flowsPerSecond.toFixed(1)} flows/s, provider ${oidcFlow.flowsPerSecond.toFixed(1)} flows/s`);
    }

    options.log('oidc: userinfo vs GET /v1/me for one signed-in person (50 connections)…');
    const person = await signUpForAccessToken(instance, `bench-userinfo-${process.pid}`);
    const providerToken = await providerAccessToken(instance);
    const userinfo = await runLoad({ url: `${instance}/oidc/me`, connections: 50, durationSeconds: options.loadSeconds, headers: { authorization: `Bearer ${providerToken}` } });
    const me = await runLoad({ url: `${instance}/v1/me`, connections: 50, durationSeconds: options.loadSeconds, headers: { authorization: `Bearer ${person.accessToken}` } });
    const bareUserinfo = await measureBareProviderUserinfo(options.loadSeconds);
    if (userinfo.non2xx > 0 || me.non2xx > 0) throw new Error(`userinfo answered ${userinfo.non2xx}, /v1/me ${me.non2xx} non-2xx`);
    return {
      apiFlowsPerSecond: median(api),
      oidcFlowsPerSecond: median(oidc),
      tokenP99Ms: percentile(tokenLatencies, 99),
      tokenExchanges: tokenLatencies.length,
      apiVerifyP99Ms: percentile(verifyLatencies, 99),
      bareUserinfoPerSecond: bareUserinfo,
      userinfoPerSecond: userinfo.requestsPerSecond,
      mePerSecond: me.requestsPerSecond,
      cpuPerFlow: {
        apiEventLoopMs: cpu.apiEventLoopMs / cpu.apiFlows,
        oidcEventLoopMs: cpu.oidcEventLoopMs / cpu.oidcFlows,
        apiLoadGeneratorMs: cpu.apiLoadGeneratorMs / cpu.apiFlows,
        oidcLoadGeneratorMs: cpu.oidcLoadGeneratorMs / cpu.oidcFlows,
      },
      errors,
    };
  } finally {
    await instances.stop();
  }
}
