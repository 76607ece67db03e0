// Attacks on forward-auth (FA-32..FA-40, FA-66), each refused with a stable code and never a 500:
// X-Forwarded-* / X-Original-* from a peer that is not a trusted proxy or meant for the other
// route (a client's X-Original-URL passed on by Caddy or Traefik), an open redirect through
// rd, header injection through the original URI, a garbage, expired or revoked cookie, and a
// rules file with a catastrophic regex (refused at start with its line and reason; on reload the
// previous rules stay in force).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { reloadForwardAuthRules } from '../../src/http/forward-auth/start.js';
import { createTwofold } from '../../src/twofold.js';
import { createTestStorage } from '../helpers/backend.js';
import { bearer, expectProblem, signUp, type SignedUp } from '../helpers/flow.js';
import { ask, faCookie, signInForApp, startForwardAuthTwofold } from '../helpers/forward-auth.js';
import { PageBrowser } from '../helpers/page-browser.js';
import { makeDataDir, testEnvironment, type TestTwofold } from '../helpers/twofold.js';

const rules = `
rules:
  - hosts: ["*.twofold.test"]
    paths: ["/private/**"]
    policy: deny
`;

let t: TestTwofold & { rulesFile: string };
let user: SignedUp;
beforeAll(async () => {
  t = await startForwardAuthTwofold(rules);
  user = await signUp(t);
});
afterAll(async () => t?.close());

describe('forward-auth: who may ask', () => {
  it('FA-32: X-Forwarded-* / X-Original-* from a peer that is not a trusted proxy: 403 untrusted_proxy, whatever else the request carries', async () => {
    const { cookie } = await signInForApp(t, user, 'https://app.twofold.test/');
    for (const flavour of ['caddy', 'nginx'] as const) {
      expectProblem(await ask(t, 'https://app.twofold.test/', { cookie, flavour, remoteAddress: '203.0.113.9' }), 403, 'untrusted_proxy');
      // Naming a trusted proxy in X-Forwarded-For changes nothing: the TCP peer is what counts.
      expectProblem(await ask(t, 'https://app.twofold.test/', { cookie, flavour, remoteAddress: '203.0.113.9', headers: { 'x-forwarded-for': '127.0.0.1' } }), 403, 'untrusted_proxy');
    }
    // The same request from the proxy passes.
    expect((await ask(t, 'https://app.twofold.test/', { cookie })).statusCode).toBe(200);
  });

  it('FA-33: a missing, doubled or malformed original request is 400 invalid_request', async () => {
    const cases: Array<Record<string, string | string[]>> = [
      {},
      { 'x-forwarded-host': 'app.twofold.test' },
      { 'x-forwarded-host': 'app.twofold.test', 'x-forwarded-uri': 'relative' },
      { 'x-forwarded-host': 'app.twofold.test', 'x-forwarded-uri': '/', 'x-forwarded-proto': 'gopher' },
      { 'x-forwarded-host': 'app.twofold.test evil', 'x-forwarded-uri': '/' },
      { 'x-original-url': 'javascript:alert(1)' },
      { 'x-original-url': 'https://user@app.twofold.test/' },
      { 'x-original-url': ['https://app.twofold.test/', 'https://app.twofold.test/private/x'] },
      { 'x-original-url': 'https://app.twofold.test/', 'x-original-method': 'GE T' },
    ];
    for (const headers of cases) {
      const response = await t.app.inject({ method: 'GET', url: headers['x-original-url'] === undefined ? '/v1/forward-auth' : '/v1/forward-auth/nginx', remoteAddress: '127.0.0.1', headers });
      expect([response.statusCode, response.body === '' ? response.headers.location : response.json().code], JSON.stringify(headers)).toEqual([400, 'invalid_request']);
    }
  });
});

describe('forward-auth: each route reads only its own proxy’s headers', () => {
  it('FA-66: /v1/forward-auth (Caddy, Traefik, HAProxy) never reads an X-Original-URL — Caddy and Traefik pass on whatever the client sent — and /v1/forward-auth/nginx never reads X-Forwarded-*', async () => {
    const { cookie } = await signInForApp(t, user, 'https://app.twofold.test/');
    // Caddy: its X-Forwarded-* for the denied path, plus the client's X-Original-URL naming an allowed one.
    const caddy = await ask(t, 'https://app.twofold.test/private/ledger', { cookie, headers: { 'x-original-url': 'https://app.twofold.test/reports', 'x-original-method': 'GET' } });
    expectProblem(caddy, 403, 'forward_auth_denied');
    // An X-Original-URL alone is no original request for /v1/forward-auth.
    const alone = await t.app.inject({ method: 'GET', url: '/v1/forward-auth', remoteAddress: '127.0.0.1', headers: { 'x-original-url': 'https://app.twofold.test/reports', cookie: `${faCookie}=${cookie}` } });
    expectProblem(alone, 400, 'invalid_request');
    // nginx: its X-Original-URL for the denied path, plus the client's X-Forwarded-* (auth_request passes them on).
    const nginx = await ask(t, 'https://app.twofold.test/private/ledger', { cookie, flavour: 'nginx', headers: { 'x-forwarded-host': 'app.twofold.test', 'x-forwarded-uri': '/reports' } });
    expectProblem(nginx, 403, 'forward_auth_denied');
    const forwardedOnly = await t.app.inject({ method: 'GET', url: '/v1/forward-auth/nginx', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-host': 'app.twofold.test', 'x-forwarded-uri': '/reports', cookie: `${faCookie}=${cookie}` } });
    expectProblem(forwardedOnly, 400, 'invalid_request');
  });
});

describe('forward-auth: header injection through the original URI', () => {
  it('FA-34: encoded CR/LF, NUL, an encoded slash or a backslash in the URI is refused (400), never passed on in a Location', async () => {
    for (const uri of ['/a%0d%0aSet-Cookie:%20x=1', '/a%0D%0A', '/a%00b', '/a%2fb', '/a\\b', '/%5c%5cevil.example']) {
      for (const flavour of ['caddy', 'nginx'] as const) {
        const response = await ask(t, `https://app.twofold.test${uri}`, { flavour });
        expect([response.statusCode, response.body === '' ? response.headers.location : response.json().code], `${flavour} ${uri}`).toEqual([400, 'invalid_request']);
        expect(response.headers.location).toBeUndefined();
      }
    }
  });

  it('FA-34: an encoded CR/LF in the query (a GET form with a textarea sends one) reaches the sign-in URL only percent-encoded', async () => {
    const response = await ask(t, 'https://app.twofold.test/a?x=%0d%0aLocation:%20https://evil.example');
    expect(response.statusCode).toBe(302);
    const location = response.headers.location as string;
    expect(location).not.toMatch(/[\r\n]/);
    expect(location).toBe(`http://twofold.test/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.twofold.test/a?x=%0d%0aLocation:%20https://evil.example')}`);
    expect(Object.keys(response.headers)).not.toContain('set-cookie');
  });

  it('FA-34: dot segments and escapes are judged as the server reads them: /x/../private is the denied /private', async () => {
    for (const uri of ['/x/../private/a', '/%70rivate/a', '/./private/a', '/PRIVATE/../private/a']) {
      expectProblem(await ask(t, `https://app.twofold.test${uri}`), 403, 'forward_auth_denied');
    }
  });
});

describe('forward-auth: open redirect through rd', () => {
  const refused = [
    'https://evil.example/',
    '//evil.example/',
    '/relative/path',
    'javascript:alert(1)',
    'JaVaScRiPt://app.twofold.test/%0aalert(1)',
    'data:text/html,<script>alert(1)</script>',
    'ftp://app.twofold.test/',
    'https://app.twofold.test@evil.example/',
    'https://user:pass@app.twofold.test/',
    'https://@app.twofold.test/',
    'https://evil.example\\@app.twofold.test/',
    'https:\\\\evil.example/',
    'https://evil.example%5c.twofold.test/',
    'https://twofold.test.evil.example/',
    'https://eviltwofold.test/',
    'https://evil.example#.twofold.test',
    'https://evil.example?.twofold.test',
    ' https://app.twofold.test/',
    'https://app.twofold.test/\r\nSet-Cookie: x=1',
    `https://app.twofold.test/${'a'.repeat(5000)}`,
  ];

  it('FA-35: sign-in, callback and logout refuse every rd outside the protected domains with a 400, and redirect nowhere', async () => {
    const b = new PageBrowser(t);
    for (const rd of refused) {
      for (const path of ['/v1/forward-auth/sign-in', '/v1/forward-auth/callback', '/v1/forward-auth/logout']) {
        const response = await b.get(`${path}?rd=${encodeURIComponent(rd)}`);
        expect(response.statusCode, `${path} ${JSON.stringify(rd)}`).toBe(400);
        expect(response.headers.location).toBeUndefined();
      }
      const logout = await b.post('/v1/forward-auth/logout', { rd });
      expect(logout.statusCode, `logout ${JSON.stringify(rd)}`).toBe(400);
    }
  });

  it('FA-35: a well-formed rd inside a protected domain is accepted (the check is not refusing everything)', async () => {
    const b = new PageBrowser(t);
    for (const rd of ['https://app.twofold.test/x?y=1', 'http://twofold.test/', 'https://a.b.twofold.test:8443/p']) {
      const response = await b.get(`/v1/forward-auth/sign-in?rd=${encodeURIComponent(rd)}`);
      expect(response.statusCode, rd).toBe(303);
      expect(response.headers.location).toMatch(/^\/sign-in\?return_to=/);
    }
  });
});

describe('forward-auth: cookies that are not (or no longer) a session', () => {
  it('FA-36: a garbage, unknown or oversized cookie is no session: a redirect to sign in, never a 500', async () => {
    for (const cookie of ['x', 'A'.repeat(43), '%00%0d%0a', 'a'.repeat(4000), '"quoted"']) {
      const response = await ask(t, 'https://app.twofold.test/', { cookie });
      expect(response.statusCode, cookie.slice(0, 20)).toBe(302);
    }
  });

  it('FA-37: the absolute limit ends the session behind the cookie', async () => {
    const { cookie } = await signInForApp(t, user, 'https://app.twofold.test/');
    // Kept alive (under the idle limit) until the absolute limit passes.
    const step = Math.floor(t.config.sessions.idleTimeoutSeconds / 2);
    for (let elapsed = 0; elapsed <= t.config.sessions.absoluteTimeoutSeconds; elapsed += step) {
      t.clock.advanceSeconds(step);
      // Past the in-process cache, each decision reads the session again.
      await ask(t, 'https://app.twofold.test/', { cookie });
    }
    expect((await ask(t, 'https://app.twofold.test/', { cookie })).statusCode).toBe(302);
  });

  it('FA-38: a session signed out with /v1/logout ends its cookie on the very next decision (the cache does not keep it)', async () => {
    const { cookie, b } = await signInForApp(t, user, 'https://app.twofold.test/');
    expect((await ask(t, 'https://app.twofold.test/', { cookie })).statusCode).toBe(200);
    const out = await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer(b.accessToken) });
    expect(out.statusCode, out.body).toBe(204);
    expect((await ask(t, 'https://app.twofold.test/', { cookie })).statusCode).toBe(302);
  });

  it('FA-38: the cookie name is the one documented', () => {
    expect(faCookie).toBe('__Secure-twofold-fa');
  });
});

describe('forward-auth: a rules file with a catastrophic regex', () => {
  const catastrophic = `rules:\n  - hosts: [app.twofold.test]\n    path_regex: "^/(a+)+$"\n    policy: bypass\n`;

  it('FA-39: refused at start with its file, line and reason', async () => {
    const dataDir = makeDataDir();
    const rulesFile = join(dataDir, 'rules.yaml');
    writeFileSync(rulesFile, catastrophic);
    const storage = await createTestStorage(dataDir);
    const config = loadConfig(testEnvironment(dataDir, { ...storage.env, TWOFOLD_FORWARD_AUTH: 'on', TWOFOLD_FORWARD_AUTH_RULES: rulesFile, TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: 'twofold.test', TWOFOLD_TRUSTED_PROXIES: '127.0.0.1' }));
    const twofold = await createTwofold(config, { maintenance: false });
    try {
      await expect(buildApp(twofold)).rejects.toThrow(/rules\.yaml:3:\d+: rule 1: path_regex: can take exponential time/);
    } finally {
      await twofold.close();
      await storage.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('FA-40: on reload it is refused and the rules in force stay', async () => {
    const waitForReload = () => new Promise((resolve) => setTimeout(resolve, 600));
    // A good change is taken in (the watcher works)…
    writeFileSync(t.rulesFile, `rules:\n  - hosts: [app.twofold.test]\n    paths: ["/open/**"]\n    policy: bypass\n  - hosts: ["*.twofold.test"]\n    paths: ["/private/**"]\n    policy: deny\n`);
    await waitForReload();
    expect((await ask(t, 'https://app.twofold.test/open/x')).statusCode).toBe(200);
    // …a catastrophic one is not: /open stays bypassed, /private stays denied.
    writeFileSync(t.rulesFile, catastrophic);
    await waitForReload();
    expect((await ask(t, 'https://app.twofold.test/open/x')).statusCode).toBe(200);
    expectProblem(await ask(t, 'https://app.twofold.test/private/x'), 403, 'forward_auth_denied');
    expect((await ask(t, 'https://app.twofold.test/aaaa')).statusCode).toBe(302);
  });
});

describe('forward-auth: reload on demand', () => {
  it('FA-40: reloadForwardAuthRules() (SIGHUP in twofold serve) refuses a bad file and keeps the rules; takes a good one', async () => {
    writeFileSync(t.rulesFile, 'rules:\n  - hosts: [app.twofold.test]\n    policy: nonsense\n');
    const refused = await reloadForwardAuthRules(t.ctx);
    expect(refused).toMatchObject({ ok: false, problem: { line: 3 } });
    expectProblem(await ask(t, 'https://app.twofold.test/private/x'), 403, 'forward_auth_denied');
    writeFileSync(t.rulesFile, 'rules:\n  - hosts: [app.twofold.test]\n    policy: bypass\n');
    expect(await reloadForwardAuthRules(t.ctx)).toMatchObject({ ok: true });
    expect((await ask(t, 'https://app.twofold.test/private/x')).statusCode).toBe(200);
  });
});

describe('forward-auth: rd as nginx sends it', () => {
  it('FA-43: an unencoded rd (nginx: ?rd=$scheme://$http_host$request_uri) is the whole rest of the query, and checked like any other', async () => {
    const b = new PageBrowser(t);
    const response = await b.get('/v1/forward-auth/sign-in?rd=https://app.twofold.test/search?q=a&page=2');
    expect(response.statusCode).toBe(303);
    const back = decodeURIComponent(/return_to=([^&]+)/.exec(response.headers.location as string)![1]!);
    expect(back).toBe(`/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.twofold.test/search?q=a&page=2')}`);
    for (const rd of ['https://evil.example/?x=https://app.twofold.test/', '//evil.example/', 'https://app.twofold.test@evil.example/']) {
      expect((await b.get(`/v1/forward-auth/sign-in?rd=${rd}`)).statusCode, rd).toBe(400);
    }
    // Encoded, with other parameters after it: only rd is taken.
    const encoded = await b.get(`/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.twofold.test/x?y=1')}&extra=1`);
    expect(decodeURIComponent(/return_to=([^&]+)/.exec(encoded.headers.location as string)![1]!)).toBe(`/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.twofold.test/x?y=1')}`);
  });
});
