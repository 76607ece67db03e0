// A real HTTP hop in front of a test Twofold, for what a resource server sees of its issuer: the
// issuer going away (every connection dropped) and coming back, or an issuer of an older version
// (a rewrite of the query and the JSON answer). Requests are forwarded unchanged otherwise.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IssuerProxy {
  url: string;
  /** Paths (with query) of the requests that reached the proxy, in order. */
  requests: string[];
  /** While down, every connection is dropped without an answer (an issuer that is gone). */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export interface IssuerProxyOptions {
  /** Rewrites the request URL (path and query) before it is forwarded. */
  rewriteRequest?: (url: URL) => void;
  /** Rewrites a JSON answer before it is returned. */
  rewriteJson?: (path: string, body: Record<string, unknown>) => Record<string, unknown>;
}

export async function startIssuerProxy(targetBaseUrl: string, options: IssuerProxyOptions = {}): Promise<IssuerProxy> {
  let down = false;
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    if (down) {
      request.socket.destroy();
      return;
    }
    const url = new URL(request.url ?? '/', targetBaseUrl);
    options.rewriteRequest?.(url);
    fetch(url, { headers: { accept: 'application/json' } })
      .then(async (answer) => {
        let body = await answer.text();
        if (options.rewriteJson !== undefined && answer.headers.get('content-type')?.includes('json') === true) {
          body = JSON.stringify(options.rewriteJson(url.pathname, JSON.parse(body) as Record<string, unknown>));
        }
        response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        response.end(body);
      })
      .catch(() => request.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    setDown(value) {
      down = value;
      if (value) server.closeAllConnections();
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
