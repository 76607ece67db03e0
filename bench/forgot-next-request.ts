// LG-01/02/03 after the answer: a forgot-password answers the same for every username, but work
// that only a real account causes — database writes, a message to send, an audit row — runs after
// the answer, on the same event loop. The *next* request on the same keep-alive connection then
// waits for it: before, it measured 0.2–0.5 ms slower after a real username (AUC 0.75–0.87).
// This measures exactly that: POST /v1/password/forgot for a known username (with a verified
// address, so a code really is sent) or an unknown one, in random order, then at once GET /healthz
// on the same socket, timed. Pairs are spaced so that each pair starts on an idle server.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createSecretBox } from '../src/core/crypto/secretbox.js';
import { outboxAad } from '../src/delivery/outbox.js';
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

/**
 * The text of each verification mail, by address. Today's server seals every outbox message
 * (AAD "outbox|<id>") with its encryption key; a build from before that kept the text in clear.
 */
function verificationMailTexts(sqlite: BetterSqlite3.Database, encryptionKey: string): Array<{ destination: string; text: string }> {
  const columns = new Set((sqlite.prepare('pragma table_info(outbox)').all() as Array<{ name: string }>).map((column) => column.name));
  if (!columns.has('content_ciphertext')) {
    return sqlite.prepare("select destination, body as text from outbox where purpose = 'email_verification'").all() as Array<{ destination: string; text: string }>;
  }
  const box = createSecretBox([Buffer.from(encryptionKey, 'base64url')]);
  const rows = sqlite.prepare("select id, destination, content_ciphertext from outbox where purpose = 'email_verification'").all() as Array<{ id: string; destination: string; content_ciphertext: string }>;
  return rows.map((row) => ({ destination: row.destination, text: (JSON.parse(box.open(row.content_ciphertext, outboxAad(row.id))) as { text: string }).text }));
}

/** The verification links mailed at registration, by address (read from the development outbox; sent in the background: polled). */
async function verificationTokens(dataDir: string, encryptionKey: string, count: number): Promise<Map<string, string>> {
  for (let tries = 0; ; tries += 1) {
    const sqlite = new BetterSqlite3(join(dataDir, 'twofold.db'), { readonly: true });
    try {
      const tokens = new Map(verificationMailTexts(sqlite, encryptionKey).map((mail) => [mail.destination, /[?&]token=([A-Za-z0-9_-]+)/.exec(mail.text)?.[1] ?? '']));
      if (tokens.size >= count || tries >= 40) return tokens;
    } finally {
      sqlite.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Accounts with a verified address (so that a reset code really is sent), registered `concurrency` at a time. */
async function realAccounts(url: string, dataDir: string, encryptionKey: string, count: number): Promise<string[]> {
  const prefix = `uniform-${randomBytes(4).toString('hex')}`;
  const usernames = Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < usernames.length) {
        const username = usernames[next++]!;
        const registered = await post(url, '/v1/register', { username, password, email: `${username}@example.com` });
        if (registered.status !== 201) throw new Error(`could not register ${username}: ${JSON.stringify(registered.body)}`);
      }
    }),
  );
  const tokens = await verificationTokens(dataDir, encryptionKey, count);
  // A server from before e-mail verification (to measure a "before") mails any address: nothing to verify.
  if (tokens.size === 0) return usernames;
  for (const username of usernames) {
    const verified = await fetch(`${url}/v1/email/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tokens.get(`${username}@example.com`) ?? '' }) });
    if (verified.status !== 204) throw new Error(`could not verify the address of ${username}: ${verified.status}`);
  }
  return usernames;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Forgot-password for a real account vs a name that does not exist: the latency of the request
 * after it. Each real account is asked about once, like each unknown name, as an attacker testing
 * names would (a name asked about again within the hour is coalesced: no second event for either).
 */
export async function measureNextRequestAfterForgot(samples: number): Promise<UniformityResult> {
  // The per-network budgets set aside: the benchmark measures the work a real reset causes, every time.
  const cluster = await startInstances('sqlite', 1, {
    TWOFOLD_PASSWORD_RESETS_PER_CLIENT: '1000000',
    TWOFOLD_EMAIL_SENDS_PER_CLIENT: '1000000',
    TWOFOLD_EMAIL_SENDS_PER_HOUR: '10000000',
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const url = new URL(cluster.urls[0]!);
    const warmup = 10;
    const real = await realAccounts(cluster.urls[0]!, cluster.dataDir, cluster.encryptionKey, samples + warmup);
    await pause(500);

    const run = async (count: number) => {
      const order = [...Array<'known'>(count).fill('known'), ...Array<'unknown'>(count).fill('unknown')].sort(() => Math.random() - 0.5);
      const times = { known: [] as number[], unknown: [] as number[] };
      const answers = new Set<string>();
      for (const kind of order) {
        const username = kind === 'known' ? real.pop()! : `nobody-${randomBytes(6).toString('hex')}`;
        const forgot = await send(agent, url, 'POST', '/v1/password/forgot', { username });
        answers.add(JSON.stringify([forgot.status, forgot.body]));
        if (forgot.status !== 202) throw new Error(`expected 202, got ${forgot.status}: ${forgot.body}`);
        const started = performance.now();
        const next = await send(agent, url, 'GET', '/healthz');
        times[kind].push(performance.now() - started);
        if (next.status !== 200 || !next.reusedSocket) throw new Error('the probe did not reuse the connection of the forgot-password request');
        // The work either kind started right after its answer is over before the next pair begins.
        await pause(15);
      }
      return { times, identicalAnswers: answers.size === 1 };
    };
    await run(warmup);
    const { times, identicalAnswers } = await run(samples);
    return { medianMs: median(times.known), baselineMedianMs: median(times.unknown), auc: areaUnderCurve(times.known, times.unknown), samples, identicalAnswers };
  } finally {
    agent.destroy();
    await cluster.stop();
  }
}
