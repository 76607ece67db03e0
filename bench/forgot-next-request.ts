// LG-01/02/03 after the answer: a forgot-password answers the same for every username, but work
// that only a real account causes — database writes, a message to send, an audit row — runs after
// the answer, on the same event loop. The *next* request on the same keep-alive connection then
// waits for it: the review measured it 0.2–0.5 ms slower after a real username (AUC 0.75–0.87).
// This measures exactly that: POST /v1/password/forgot for a known username (with a verified
// address, so a code really is sent) or an unknown one, in random order, then at once GET /healthz
// on the same socket, timed. Pairs are spaced so that each pair starts on an idle server.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { post, startInstances } from './full-flow.js';
import { median } from './statistics.js';
import { areaUnderCurve, type UniformityResult } from './uniform-failure.js';

const password = 'a benchmark passphrase';

interface Answer {
  status: number;
  body: string;
  reusedSocket: boolean;
}

function send(agent: Agent, url: URL, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { agent, host: url.hostname, port: url.port, method, path, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text, reusedSocket: outgoing.reusedSocket }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** The verification link mailed at registration, read from the development outbox (sent in the background: polled). */
async function verificationTokenSentTo(dataDir: string, address: string): Promise<string | undefined> {
  for (let tries = 0; tries < 50; tries += 1) {
    const sqlite = new BetterSqlite3(join(dataDir, 'twofold.db'), { readonly: true });
    try {
      const row = sqlite.prepare("select body from outbox where destination = ? and purpose = 'email_verification' order by created_at desc limit 1").get(address) as { body: string } | undefined;
      const token = row === undefined ? undefined : /[?&]token=([A-Za-z0-9_-]+)/.exec(row.body)?.[1];
      if (token !== undefined) return token;
    } catch {
      return undefined; // a server without e-mail verification
    } finally {
      sqlite.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Forgot-password for a real account vs a name that does not exist: the latency of the request after it. */
export async function measureNextRequestAfterForgot(samples: number): Promise<UniformityResult> {
  // Every budget set aside: the benchmark measures the work a real reset causes, every time.
  const cluster = await startInstances('sqlite', 1, {
    TWOFOLD_PASSWORD_RESETS_PER_CLIENT: '1000000',
    TWOFOLD_PASSWORD_RESETS_PER_ACCOUNT: '1000000',
    TWOFOLD_OTP_SENDS_PER_DESTINATION: '1000',
    TWOFOLD_EMAIL_SENDS_PER_CLIENT: '1000000',
    TWOFOLD_EMAIL_SENDS_PER_HOUR: '10000000',
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const url = new URL(cluster.urls[0]!);
    const real = `uniform-${randomBytes(4).toString('hex')}`;
    const email = `${real}@example.com`;
    await post(cluster.urls[0]!, '/v1/register', { username: real, password, email });
    const token = await verificationTokenSentTo(cluster.dataDir, email);
    if (token !== undefined) await post(cluster.urls[0]!, '/v1/email/verify', { token });

    const run = async (count: number) => {
      const order = [...Array<'known'>(count).fill('known'), ...Array<'unknown'>(count).fill('unknown')].sort(() => Math.random() - 0.5);
      const times = { known: [] as number[], unknown: [] as number[] };
      const answers = new Set<string>();
      for (const kind of order) {
        const username = kind === 'known' ? real : `nobody-${randomBytes(6).toString('hex')}`;
        const forgot = await send(agent, url, 'POST', '/v1/password/forgot', { username });
        answers.add(JSON.stringify([forgot.status, forgot.body]));
        if (forgot.status !== 202) throw new Error(`expected 202, got ${forgot.status}: ${forgot.body}`);
        const started = performance.now();
        const next = await send(agent, url, 'GET', '/healthz');
        times[kind].push(performance.now() - started);
        if (next.status !== 200 || !next.reusedSocket) throw new Error('the probe did not reuse the connection of the forgot-password request');
        // Whatever either kind started is over before the next pair begins.
        await pause(15);
      }
      return { times, identicalAnswers: answers.size === 1 };
    };
    await run(10);
    const { times, identicalAnswers } = await run(samples);
    return { medianMs: median(times.known), baselineMedianMs: median(times.unknown), auc: areaUnderCurve(times.known, times.unknown), samples, identicalAnswers };
  } finally {
    agent.destroy();
    await cluster.stop();
  }
}
