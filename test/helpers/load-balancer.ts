// A real HTTP hop in front of one or more Twofold instances, round-robin like a load balancer
// without session affinity, that can lose answers: a request is forwarded and answered by an
// instance, and then the client's connection is cut (`reset`) or left without an answer (`hang`,
// until the client gives up) — a refresh whose answer never arrives although the server rotated
// the token. While `down`, connections are cut before anything is forwarded.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type AnswerLoss = 'reset' | 'hang';

export interface ForwardedRequest {
  method: string;
  /** Path and query. */
  path: string;
  body: string;
  /** Index of the instance that answered. */
  target: number;
  status: number;
  /** How the answer was lost on the way back; undefined when the client got it. */
  lost: AnswerLoss | undefined;
}

export interface AnswerLossRule {
  match: (request: { method: string; path: string }) => boolean;
  /** How many matching answers to lose (default 1). */
  count?: number;
  how?: AnswerLoss;
  /** Runs after the instance answered and before the answer is lost (to act in that moment). */
  beforeLoss?: () => Promise<void>;
}

export interface LoadBalancer {
  url: string;
  forwarded: ForwardedRequest[];
  loseAnswers(rule: AnswerLossRule): void;
  setDown(down: boolean): void;
  close(): Promise<void>;
}

// Hop-by-hop and framing headers are the hop's own business, never forwarded.
const notForwarded = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'expect', 'upgrade', 'content-encoding']);

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startLoadBalancer(targets: readonly string[]): Promise<LoadBalancer> {
  const forwarded: ForwardedRequest[] = [];
  const rules: Array<Required<Pick<AnswerLossRule, 'count' | 'how'>> & AnswerLossRule> = [];
  const hanging = new Set<Socket>();
  let next = 0;
  let down = false;

  const server: Server = createServer((request, response) => {
    if (down) {
      request.socket.destroy();
      return;
    }
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    const target = next++ % targets.length;
    void (async () => {
      const body = await readBody(request);
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (value === undefined || notForwarded.has(name)) continue;
        for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
      }
      const answer = await fetch(`${targets[target]}${path}`, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : body, redirect: 'manual' });
      const answerBody = Buffer.from(await answer.arrayBuffer());
      const rule = rules.find((candidate) => candidate.count > 0 && candidate.match({ method, path }));
      forwarded.push({ method, path, body, target, status: answer.status, lost: rule?.how });
      if (rule !== undefined) {
        rule.count -= 1;
        await rule.beforeLoss?.();
        if (rule.how === 'reset') request.socket.destroy();
        else hanging.add(request.socket);
        return;
      }
      const outgoing: Record<string, string | string[]> = {};
      answer.headers.forEach((value, name) => {
        if (!notForwarded.has(name) && name !== 'set-cookie') outgoing[name] = value;
      });
      const cookies = answer.headers.getSetCookie();
      if (cookies.length > 0) outgoing['set-cookie'] = cookies;
      response.writeHead(answer.status, outgoing);
      response.end(answerBody);
    })().catch(() => request.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    loseAnswers(rule) {
      rules.push({ ...rule, count: rule.count ?? 1, how: rule.how ?? 'reset' });
    },
    setDown(value) {
      down = value;
      if (value) server.closeAllConnections();
    },
    async close() {
      for (const socket of hanging) socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
