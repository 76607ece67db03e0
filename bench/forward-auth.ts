// forward-auth: the check a reverse proxy makes on every request of every protected app.
// 1. Forward-auth decisions/s (GET /v1/forward-auth/nginx, as nginx's auth_request sends it, with
//    the forward-auth cookie of one of 50 people signed in through the portal) ÷ an unguarded route
//    of the same Twofold process (GET /healthz), autocannon with 50 connections; the decisions' p99
//    from 50 connections offering 1,000 decisions/s (a busy site: at saturation every request waits
//    for the 49 others, which says more about the machine than about the check), and at saturation;
//    and the same decisions for API clients (access tokens, no target).
// 2. nginx with the README's forward-auth snippet (examples/forward-auth/nginx.conf) in front of a
//    static upstream ÷ the same nginx proxying to the same upstream without asking Twofold.
// Rounds alternate between the two sides and the median ratio is reported (a noisy, shared machine).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../test/helpers/process.js';
import { forwardAuthCookieName } from '../src/http/forward-auth/cookie-sessions.js';
import { nginxSite, startNginx } from '../test/helpers/proxies.js';
import { forwardAuthCookieFor } from './forward-auth-sign-in.js';
import { signUpForAccessToken, startInstances } from './full-flow.js';
import { runLoad, type Throughput } from './load.js';
import { median } from './statistics.js';

export interface ForwardAuthFigures {
  unguardedPerSecond: number;
  decisionsPerSecond: number;
  decisionRatio: number;
  decisionP99Ms: number;
  saturatedP99Ms: number;
  /** The unguarded route's p99 under the same paced load: what the machine adds by itself. */
  unguardedPacedP99Ms: number;
  tokenDecisionsPerSecond: number;
  nginxAlonePerSecond: number;
  nginxWithTwofoldPerSecond: number;
  nginxRatio: number;
}

const domain = 'bench.test';
const appHost = `app.${domain}`;
const connections = 50;
const users = 50;
const pacedRate = 1_000;

/** Every request in the run answered 2xx without errors, or the figure means nothing. */
function checked(name: string, run: Throughput): Throughput {
  if (run.non2xx > 0 || run.errors > 0) throw new Error(`the forward-auth ${name} run failed: ${JSON.stringify(run)}`);
  return run;
}

export async function measureForwardAuth(options: { rounds: number; durationSeconds: number }): Promise<ForwardAuthFigures> {
  const rulesDirectory = mkdtempSync(join(tmpdir(), 'twofold-bench-forward-auth-'));
  // The two_factor default for everything: every decision is a full one, never a bypass.
  writeFileSync(join(rulesDirectory, 'rules.yaml'), 'default: two_factor\nrules: []\n');
  const instances = await startInstances('sqlite', 1, {
    TWOFOLD_PUBLIC_URL: `http://auth.${domain}`,
    TWOFOLD_FORWARD_AUTH: 'on',
    TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: domain,
    TWOFOLD_FORWARD_AUTH_RULES: join(rulesDirectory, 'rules.yaml'),
    TWOFOLD_TRUSTED_PROXIES: '127.0.0.1',
  });
  const twofoldUrl = instances.urls[0]!;
  const nginx = await startBenchNginx(new URL(twofoldUrl).host);
  try {
    const cookies: string[] = [];
    for (let index = 0; index < users; index += 1) cookies.push(await forwardAuthCookieFor(twofoldUrl, `https://${appHost}/`, `bench-forward-auth-${process.pid}-${index}`));
    const tokens: string[] = [];
    for (let index = 0; index < 10; index += 1) tokens.push((await signUpForAccessToken(twofoldUrl, `bench-forward-auth-api-${process.pid}-${index}`)).accessToken);
    let next = 0;
    const withCookie = (request: { headers?: Record<string, string> }) => ({ ...request, headers: { ...request.headers, cookie: `${forwardAuthCookieName}=${cookies[next++ % cookies.length]}` } });
    const withToken = (request: { headers?: Record<string, string> }) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } });
    const original = { 'x-original-method': 'GET', 'x-original-url': `https://${appHost}/orders/42` };

    const unguarded: number[] = [];
    const decisions: number[] = [];
    const decisionRatios: number[] = [];
    const decisionP99: number[] = [];
    const saturatedP99: number[] = [];
    const unguardedPacedP99: number[] = [];
    const tokenDecisions: number[] = [];
    const alone: number[] = [];
    const guarded: number[] = [];
    const nginxRatios: number[] = [];
    for (let round = 0; round < options.rounds; round += 1) {
      const open = checked('unguarded', await runLoad({ url: `${twofoldUrl}/healthz`, connections, durationSeconds: options.durationSeconds }));
      const decided = checked('decision', await runLoad({ url: `${twofoldUrl}/v1/forward-auth/nginx`, connections, durationSeconds: options.durationSeconds, headers: original, setupRequest: withCookie }));
      const tokenDecided = checked('token decision', await runLoad({ url: `${twofoldUrl}/v1/forward-auth/nginx`, connections, durationSeconds: options.durationSeconds, headers: original, setupRequest: withToken }));
      tokenDecisions.push(tokenDecided.requestsPerSecond);
      unguarded.push(open.requestsPerSecond);
      decisions.push(decided.requestsPerSecond);
      decisionRatios.push(decided.requestsPerSecond / open.requestsPerSecond);
      saturatedP99.push(decided.p99Ms);
      const paced = checked('paced decision', await runLoad({ url: `${twofoldUrl}/v1/forward-auth/nginx`, connections, durationSeconds: options.durationSeconds, overallRate: pacedRate, headers: original, setupRequest: withCookie }));
      decisionP99.push(paced.p99Ms);
      const pacedOpen = checked('paced unguarded', await runLoad({ url: `${twofoldUrl}/healthz`, connections, durationSeconds: options.durationSeconds, overallRate: pacedRate }));
      unguardedPacedP99.push(pacedOpen.p99Ms);

      const host = { host: appHost };
      const bare = checked('nginx alone', await runLoad({ url: nginx.aloneUrl, connections, durationSeconds: options.durationSeconds, headers: host }));
      const protectedRun = checked('nginx with Twofold', await runLoad({ url: nginx.guardedUrl, connections, durationSeconds: options.durationSeconds, headers: host, setupRequest: withCookie }));
      alone.push(bare.requestsPerSecond);
      guarded.push(protectedRun.requestsPerSecond);
      nginxRatios.push(protectedRun.requestsPerSecond / bare.requestsPerSecond);
    }
    return {
      unguardedPerSecond: median(unguarded),
      decisionsPerSecond: median(decisions),
      decisionRatio: median(decisionRatios),
      decisionP99Ms: median(decisionP99),
      saturatedP99Ms: median(saturatedP99),
      unguardedPacedP99Ms: median(unguardedPacedP99),
      tokenDecisionsPerSecond: median(tokenDecisions),
      nginxAlonePerSecond: median(alone),
      nginxWithTwofoldPerSecond: median(guarded),
      nginxRatio: median(nginxRatios),
    };
  } finally {
    await nginx.stop();
    await instances.stop();
    rmSync(rulesDirectory, { recursive: true, force: true });
  }
}

/**
 * One nginx with three sites: the README's snippet in front of a static upstream, the same
 * upstream proxied without forward-auth, and the static upstream itself (nginx answering 200).
 */
async function startBenchNginx(twofoldAddress: string): Promise<{ guardedUrl: string; aloneUrl: string; stop(): Promise<void> }> {
  const [guardedPort, alonePort, upstreamPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const upstreamAddress = `127.0.0.1:${upstreamPort}`;
  const addresses = { twofoldAddress, upstreamAddress, appHost, proxyPort: guardedPort };
  const site = [
    nginxSite(addresses),
    `server {\n    listen 127.0.0.1:${alonePort};\n    server_name ${appHost};\n    location / {\n        proxy_pass http://${upstreamAddress};\n    }\n}`,
    `server {\n    listen ${upstreamAddress};\n    location / {\n        return 200 "static page\\n";\n    }\n}`,
  ].join('\n');
  const running = await startNginx(addresses, { site });
  return { guardedUrl: `http://127.0.0.1:${guardedPort}/orders/42`, aloneUrl: `http://127.0.0.1:${alonePort}/orders/42`, stop: running.stop };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await measureForwardAuth({ rounds: 1, durationSeconds: 2 }), null, 2)}\n`);
}
