// A relying party's back-channel logout endpoint for tests: a real HTTP server on 127.0.0.1 that
// keeps every logout token POSTed to it and answers with the statuses it is told (200 after them).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BackchannelReceiver {
  url: string;
  /** Every logout_token received, in order (also those answered with an error). */
  readonly tokens: string[];
  /** Statuses for the next deliveries, in order; 200 once they are used up. */
  answerNext(...statuses: number[]): void;
  /** The first token received for which `match` holds (waits up to `timeoutMs`). */
  waitFor(match: (token: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startBackchannelReceiver(): Promise<BackchannelReceiver> {
  const tokens: string[] = [];
  const statuses: number[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const isForm = request.method === 'POST' && (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      const token = isForm ? new URLSearchParams(body).get('logout_token') : null;
      if (token !== null) tokens.push(token);
      response.statusCode = token === null ? 400 : (statuses.shift() ?? 200);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tokens,
    answerNext: (...next) => statuses.push(...next),
    async waitFor(match, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = tokens.find(match);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error('no matching logout token arrived');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error)))),
  };
}
