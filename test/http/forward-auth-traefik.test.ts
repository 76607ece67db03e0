// Traefik's ForwardAuth middleware against /v1/forward-auth (FA-66, FA-67), as its contract
// describes the sub-request: a GET to `address` carrying every header of the client's request
// (hop-by-hop ones removed), then X-Forwarded-For set to the client's address and
// X-Forwarded-Method, -Proto, -Host and -Uri set from the client's request — with
// trustForwardHeader false, whatever the client sent under those names is overwritten, and
// everything else it sent (an X-Original-URL, an X-Forwarded-Port) reaches Twofold unchanged. A
// 2xx lets the request through with `authResponseHeaders` copied onto it; any other answer (a
// 302 to the sign-in, a 403) goes to the browser as it is. Traefik is not packaged by Debian, so
// the sub-request is built here, header by header, as the middleware builds it, for the README's
// configuration (examples/forward-auth/traefik.yml).
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultForwardAuthHeaders } from '../../src/config/forward-auth.js';
import { forwardAuthExampleFile } from '../helpers/proxies.js';
import { bearer, signIn, signUp, type SignedUp } from '../helpers/flow.js';
import { faCookie, signInForApp, startForwardAuthTwofold } from '../helpers/forward-auth.js';
import type { TestTwofold } from '../helpers/twofold.js';

const rules = `
default: two_factor
rules:
  - hosts: [app.twofold.test]
    paths: ["/health"]
    policy: bypass
  - hosts: [app.twofold.test]
    paths: ["/private/**"]
    policy: deny
`;

/** The client's request as Traefik received it. */
interface ClientRequest {
  method: string;
  /** The Host header (with a port when the client gave one). */
  host: string;
  /** Path and query. */
  uri: string;
  tls: boolean;
  remoteAddress: string;
  headers?: Record<string, string>;
}

const hopByHop = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailers', 'transfer-encoding', 'upgrade'];

/** The headers of Traefik's ForwardAuth sub-request for `client` (trustForwardHeader: false, no authRequestHeaders filter). */
function traefikHeaders(client: ClientRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(client.headers ?? {})) if (!hopByHop.includes(name.toLowerCase())) headers[name.toLowerCase()] = value;
  headers['x-forwarded-for'] = client.remoteAddress;
  headers['x-forwarded-method'] = client.method;
  headers['x-forwarded-proto'] = client.tls ? 'https' : 'http';
  headers['x-forwarded-host'] = client.host;
  headers['x-forwarded-uri'] = client.uri;
  return headers;
}

let t: TestTwofold;
let user: SignedUp;
let cookie: string;
beforeAll(async () => {
  t = await startForwardAuthTwofold(rules);
  user = await signUp(t);
  ({ cookie } = await signInForApp(t, user, 'https://app.twofold.test/'));
});
afterAll(async () => t?.close());

interface TraefikExample {
  http: {
    routers: { app: { middlewares: string[] } };
    middlewares: {
      'twofold-strip-identity': { headers: { customRequestHeaders: Record<string, string> } };
      twofold: { forwardAuth: { address: string; trustForwardHeader: boolean; authResponseHeaders: string[] } };
    };
  };
}

const example = parse(forwardAuthExampleFile('traefik.yml')) as TraefikExample;
const { forwardAuth } = example.http.middlewares.twofold;

/** Traefik's sub-request to the example's `address`, from Traefik at 127.0.0.1 (a trusted proxy). */
function askAsTraefik(client: ClientRequest) {
  return t.app.inject({ method: 'GET', url: new URL(forwardAuth.address).pathname, remoteAddress: '127.0.0.1', headers: traefikHeaders(client) });
}

const browser = { method: 'GET', host: 'app.twofold.test', tls: true, remoteAddress: '198.51.100.7' };

describe('forward-auth behind Traefik ForwardAuth', () => {
  it('FA-67: the README’s Traefik configuration asks /v1/forward-auth with Traefik’s own X-Forwarded-*, copies the four identity headers, and drops their underscored twins first', () => {
    expect(forwardAuth.address).toBe('http://127.0.0.1:3000/v1/forward-auth');
    expect(forwardAuth.trustForwardHeader).toBe(false);
    const names = defaultForwardAuthHeaders;
    expect(forwardAuth.authResponseHeaders).toEqual([names.user, names.acr, names.amr, names.assertion]);
    expect(example.http.middlewares['twofold-strip-identity'].headers.customRequestHeaders).toEqual(
      Object.fromEntries([names.user, names.acr, names.amr, names.assertion].map((name) => [name.replaceAll('-', '_'), ''])),
    );
    expect(example.http.routers.app.middlewares).toEqual(['twofold-strip-identity', 'twofold']);
  });

  it('FA-67: no session: 302 to the portal sign-in with the whole original URL as rd, which Traefik hands to the browser as it is', async () => {
    const response = await askAsTraefik({ ...browser, uri: '/reports?page=2&q=a%20b', headers: { accept: 'text/html', 'user-agent': 'Mozilla/5.0' } });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe(`http://twofold.test/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.twofold.test/reports?page=2&q=a%20b')}`);
  });

  it('FA-67: the browser’s forward-auth cookie (Traefik copies the Cookie header): 200 with the headers authResponseHeaders lists', async () => {
    const response = await askAsTraefik({ ...browser, uri: '/reports', headers: { cookie: `other=1; ${faCookie}=${cookie}`, accept: 'text/html' } });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['remote-user']).toBe(user.username);
    expect(response.headers['remote-acr']).toBe('aal2');
    expect(response.headers['remote-amr']).toBe('pwd,otp,mfa');
    expect(typeof response.headers['x-twofold-assertion']).toBe('string');
  });

  it('FA-67: a host with a port (Traefik sends the Host header as the client gave it), the method of the original request, a bypass and a denied path', async () => {
    expect((await askAsTraefik({ ...browser, host: 'app.twofold.test:8443', uri: '/reports', headers: { cookie: `${faCookie}=${cookie}` } })).statusCode).toBe(200);
    expect((await askAsTraefik({ ...browser, method: 'POST', uri: '/reports', headers: { cookie: `${faCookie}=${cookie}`, 'content-type': 'application/json' } })).statusCode).toBe(200);
    const bypass = await askAsTraefik({ ...browser, uri: '/health' });
    expect(bypass.statusCode).toBe(200);
    expect(bypass.headers['remote-user']).toBeUndefined();
    const denied = await askAsTraefik({ ...browser, uri: '/private/ledger', headers: { cookie: `${faCookie}=${cookie}` } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'forward_auth_denied' });
  });

  it('FA-67: an API client’s bearer token (Traefik copies Authorization): judged by the same rules', async () => {
    const { accessToken } = await signIn(t, user);
    const response = await askAsTraefik({ ...browser, uri: '/api/orders', headers: bearer(accessToken) });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['remote-user']).toBe(user.username);
    expect((await askAsTraefik({ ...browser, uri: '/private/x', headers: bearer(accessToken) })).statusCode).toBe(403);
  });

  it('FA-66: what the client sends under X-Forwarded-* is overwritten by Traefik, and an X-Original-URL it sends (which Traefik passes on) is never read by /v1/forward-auth', async () => {
    // Asking for a denied path while naming the bypass path in every header Traefik does not overwrite.
    const spoofed = { 'x-original-url': 'https://app.twofold.test/health', 'x-original-method': 'GET', 'x-forwarded-port': '80', cookie: `${faCookie}=${cookie}` };
    const denied = await askAsTraefik({ ...browser, uri: '/private/ledger', headers: { ...spoofed, 'x-forwarded-uri': '/health', 'x-forwarded-host': 'status.twofold.test' } });
    expect(denied.statusCode).toBe(403);
    // Without a session the client cannot borrow the bypass either: a sign-in for the path it asked for.
    const anonymous = await askAsTraefik({ ...browser, uri: '/reports', headers: { 'x-original-url': 'https://app.twofold.test/health' } });
    expect(anonymous.statusCode).toBe(302);
    expect(anonymous.headers.location).toContain(encodeURIComponent('https://app.twofold.test/reports'));
  });
});
