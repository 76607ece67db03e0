// The app behind the proxy in the forward-auth tests: a bare node:http server with no login of its
// own. It answers every request with what it was told about the person (the identity headers)
// and whether X-Twofold-Assertion is a valid Twofold assertion for its own host, checked with
// jose against Twofold's JWKS as any app would — so a test sees exactly what reached the app.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Page } from 'playwright-core';

export interface EchoedRequest {
  method: string;
  path: string;
  remoteUser: string | null;
  remoteAcr: string | null;
  remoteAmr: string | null;
  /** The assertion's claims when it verified; null without one. */
  assertion: Record<string, unknown> | null;
  /** Why the assertion was refused, when one was sent and did not verify. */
  assertionError: string | null;
  /** Every request header the app received (names lowercased). */
  headers: Record<string, string | string[] | undefined>;
}

export interface IdentityEchoApp {
  /** 127.0.0.1:<port>, for the proxy configuration. */
  address: string;
  /** Every request that reached the app, oldest first. */
  received: EchoedRequest[];
  close(): Promise<void>;
}

const single = (value: string | string[] | undefined): string | null => (value === undefined ? null : Array.isArray(value) ? value.join(', ') : value);

/**
 * `issuer`: Twofold's TWOFOLD_PUBLIC_URL; `audience`: the app's own origin as people reach it
 * (scheme and host, e.g. https://app.example.com — the proxy may not pass the Host on); `jwksUrl`: where the app fetches the keys (Twofold's
 * listening address); `now`: the time the app judges expiry by (the test Twofold's clock, ms).
 */
export async function startIdentityEchoApp(options: { issuer: string; audience: string; jwksUrl: string; now?: () => number }): Promise<IdentityEchoApp> {
  const keys = createRemoteJWKSet(new URL(options.jwksUrl));
  const received: EchoedRequest[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const token = single(request.headers['x-twofold-assertion']);
      let assertion: Record<string, unknown> | null = null;
      let assertionError: string | null = null;
      if (token !== null) {
        try {
          const verified = await jwtVerify(token, keys, { issuer: options.issuer, audience: options.audience, typ: 'twofold-assertion+jwt', currentDate: new Date((options.now ?? Date.now)()) });
          assertion = verified.payload as Record<string, unknown>;
        } catch (error) {
          assertionError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        }
      }
      const echoed: EchoedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        remoteUser: single(request.headers['remote-user']),
        remoteAcr: single(request.headers['remote-acr']),
        remoteAmr: single(request.headers['remote-amr']),
        assertion,
        assertionError,
        headers: request.headers,
      };
      received.push(echoed);
      const body = `<!doctype html><title>App</title><h1>App page ${escapeHtml(echoed.path)}</h1><pre id="echo">${escapeHtml(JSON.stringify(echoed))}</pre>`;
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** What the app showed the browser: the request as it reached the app (its page's #echo). */
export async function echoOn(page: Page): Promise<EchoedRequest> {
  return JSON.parse((await page.textContent('#echo')) ?? 'null') as EchoedRequest;
}
