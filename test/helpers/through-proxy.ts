// A request to a proxy on 127.0.0.1 under the protected app's host name (fetch cannot set Host),
// without following redirects: what a browser's first request or an API client sees.
import { request } from 'node:http';

export interface ProxyAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function requestThroughProxy(baseUrl: string, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<ProxyAnswer> {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port: url.port, path: `${url.pathname}${url.search}`, method: options.method ?? 'GET', headers: { host: url.host, ...options.headers } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}
