// Library mode against a host app that has done everything a real one does: @fastify/formbody,
// @fastify/cookie, @fastify/cors reflecting every origin with credentials, @fastify/swagger,
// helmet, its own JSON parser, serializer compiler, reply serializer, error handler and 404, and a `trustProxy` setting of its own. Twofold mounted inside must keep every
// rule it has standalone — JSON only, 400 for bad JSON, problem+json, its 404, its CORS policy,
// its cookies and CSRF on the pages, the client IP by TWOFOLD_TRUSTED_PROXIES — and the host's own
// routes must keep theirs.
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import helmet from 'helmet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twofoldRoutes } from '../../src/index.js';
import type { Twofold } from '../../src/twofold.js';
import { createEmbeddedTwofold, type Embedded } from '../helpers/embedded.js';
import { strongPassword, uniqueUsername } from '../helpers/flow.js';

const ipBudget = 20;
const evilOrigin = 'https://evil.example';
const appOrigin = 'https://app.example';

/** A host app with the usual plugins and opinions of its own, then Twofold mounted where asked. */
async function buildHost(twofold: Twofold, options: { trustProxy: boolean; prefix?: string; pages: boolean }): Promise<FastifyInstance> {
  const host = Fastify({ trustProxy: options.trustProxy, onProtoPoisoning: 'ignore' });
  await host.register(formbody);
  await host.register(cookie);
  await host.register(cors, { origin: true, credentials: true });
  // Its own API documentation: Twofold registers @fastify/swagger in its scope too.
  await host.register(swagger, { openapi: { info: { title: 'Host', version: '1' } } });
  const helmetMiddleware = helmet();
  host.addHook('onRequest', (request, reply, done) => helmetMiddleware(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined)));
  // Its own JSON parser: a plain JSON.parse, whose SyntaxError carries no status.
  host.removeContentTypeParser('application/json');
  host.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // Serializers that would mark (or break) whatever they write.
  host.setSerializerCompiler(() => (data) => JSON.stringify({ host_serialized: data }));
  host.setReplySerializer((payload) => JSON.stringify({ host_serialized: payload }));
  host.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => reply.code(error.statusCode ?? 500).send({ host_error: error.message }));
  host.setNotFoundHandler((_request, reply) => reply.code(404).send({ host_not_found: true }));

  host.get('/app/whoami', async (request) => ({ ip: request.ip, cookies: request.cookies }));
  host.post('/app/notes', async (request) => ({ note: request.body }));
  host.post('/app/prefs', async (_request, reply) => reply.setCookie('theme', 'dark', { path: '/' }).send({ saved: true }));
  host.get('/app/fail', async () => {
    throw Object.assign(new Error('teapot'), { statusCode: 418 });
  });
  // Its own icon at the classic path: the pages, mounted at the root, must not clash with it.
  host.get('/favicon.ico', async (_request, reply) => reply.type('image/x-icon').send(Buffer.from('host icon')));

  await host.register(twofoldRoutes, { twofold, pages: options.pages, ...(options.prefix === undefined ? {} : { prefix: options.prefix }) });
  await host.ready();
  return host;
}

const jsonHeaders = { 'content-type': 'application/json' };
const bodyOf = (response: LightMyRequestResponse) => response.json() as Record<string, any>;

/** Sends `count` requests, `width` at a time; returns how many got each status. */
async function statusCounts(count: number, width: number, send: (index: number) => Promise<LightMyRequestResponse>): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  for (let start = 0; start < count; start += width) {
    const responses = await Promise.all(Array.from({ length: Math.min(width, count - start) }, (_, offset) => send(start + offset)));
    for (const response of responses) counts[response.statusCode] = (counts[response.statusCode] ?? 0) + 1;
  }
  return counts;
}

describe('Twofold under /auth in a host that trusts every proxy and parses forms, cookies and CORS itself', () => {
  let embedded: Embedded;
  let host: FastifyInstance;

  beforeAll(async () => {
    embedded = await createEmbeddedTwofold({ TWOFOLD_PUBLIC_URL: 'http://host.test/auth', TWOFOLD_THROTTLE_IP_FAILURES: String(ipBudget) });
    host = await buildHost(embedded.twofold, { trustProxy: true, prefix: '/auth', pages: false });
  });
  afterAll(async () => {
    await host?.close();
    await embedded?.close();
  });

  it('HT-02: a cross-site form post (the host parses forms) or a text/plain body to the JSON API is 415, and registers nobody', async () => {
    const username = uniqueUsername('form');
    for (const [type, payload] of [
      ['application/x-www-form-urlencoded', new URLSearchParams({ username, password: strongPassword }).toString()],
      ['text/plain', JSON.stringify({ username, password: strongPassword })],
      ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="username"\r\n\r\n${username}\r\n--x--\r\n`],
    ] as const) {
      const response = await host.inject({ method: 'POST', url: '/auth/v1/register', headers: { 'content-type': type, origin: evilOrigin }, payload });
      expect(response.statusCode, type).toBe(415);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(bodyOf(response)).toMatchObject({ code: 'unsupported_media_type' });
    }
    // Nobody was registered: the same username is still free.
    expect((await host.inject({ method: 'POST', url: '/auth/v1/register', headers: jsonHeaders, payload: { username, password: strongPassword } })).statusCode).toBe(201);
  });

  it('HT-02: malformed JSON (the host has its own JSON parser) is 400 problem+json, never a 500; so is prototype poisoning', async () => {
    for (const payload of ['{"username": "a",', '', '{"__proto__": {"admin": true}, "username": "abc", "password": "x"}', '{"constructor": {"prototype": {"admin": true}}}']) {
      const response = await host.inject({ method: 'POST', url: '/auth/v1/login', headers: jsonHeaders, payload });
      expect(response.statusCode, payload).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(bodyOf(response)).toMatchObject({ code: 'invalid_request' });
    }
  });

  it('Twofold answers with its own serializers, 404 and 405 under its prefix, whatever the host set', async () => {
    const registered = await host.inject({ method: 'POST', url: '/auth/v1/register', headers: jsonHeaders, payload: { username: uniqueUsername('ser'), password: strongPassword } });
    expect(bodyOf(registered)).toHaveProperty('mfa_token');
    expect(bodyOf(registered)).not.toHaveProperty('host_serialized');
    expect(bodyOf(await host.inject({ method: 'GET', url: '/auth/.well-known/jwks.json' }))).toHaveProperty('keys');
    const missing = await host.inject({ method: 'GET', url: '/auth/v1/nowhere' });
    expect(missing.statusCode).toBe(404);
    expect(bodyOf(missing)).toMatchObject({ code: 'not_found' });
    const document = bodyOf(await host.inject({ method: 'GET', url: '/auth/openapi.json' }));
    expect(document['info']).toMatchObject({ title: 'Twofold' });
    expect(Object.keys(document['paths'])).toContain('/v1/login');
    const wrongMethod = await host.inject({ method: 'GET', url: '/auth/v1/login' });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers['allow']).toBe('POST');
  });

  it("CORS: the host's reflect-everything policy never reaches Twofold's answers or preflights; its own routes keep it", async () => {
    const answer = await host.inject({ method: 'POST', url: '/auth/v1/login', headers: { ...jsonHeaders, origin: evilOrigin }, payload: { username: 'nobody1', password: strongPassword } });
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
    const preflight = await host.inject({ method: 'OPTIONS', url: '/auth/v1/me', headers: { origin: evilOrigin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-headers']).toBeUndefined();
    expect(preflight.statusCode).toBe(405);

    const hostRoute = await host.inject({ method: 'GET', url: '/app/whoami', headers: { origin: evilOrigin } });
    expect(hostRoute.headers['access-control-allow-origin']).toBe(evilOrigin);
    expect(hostRoute.headers['access-control-allow-credentials']).toBe('true');
  });

  it("the host's routes keep their parsers, serializers, error and 404 formats and helmet's headers, with none of Twofold's", async () => {
    const form = await host.inject({ method: 'POST', url: '/app/notes', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' });
    expect(JSON.parse(form.body)).toEqual({ host_serialized: { note: { a: '1' } } });
    const badJson = await host.inject({ method: 'POST', url: '/app/notes', headers: jsonHeaders, payload: '{' });
    expect(bodyOf(badJson).host_serialized).toHaveProperty('host_error');
    expect(bodyOf(await host.inject({ method: 'GET', url: '/app/fail' }))).toEqual({ host_serialized: { host_error: 'teapot' } });
    expect(await host.inject({ method: 'GET', url: '/elsewhere' })).toMatchObject({ statusCode: 404, body: expect.stringContaining('host_not_found') });
    const cookies = await host.inject({ method: 'GET', url: '/app/whoami', headers: { cookie: 'theme=dark' } });
    expect(JSON.parse(cookies.body)).toMatchObject({ host_serialized: { cookies: { theme: 'dark' } } });
    expect((await host.inject({ method: 'POST', url: '/app/prefs' })).headers['set-cookie']).toMatch(/^theme=dark/);
    const headers = cookies.headers;
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['cache-control']).toBeUndefined();
    // Twofold's answers carry Twofold's policy over helmet's.
    const jwks = await host.inject({ method: 'GET', url: '/auth/.well-known/jwks.json' });
    expect(jwks.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
  });

  it('LG-05: with the host trusting every proxy, 1,000 failed logins with a new spoofed X-Forwarded-For each still stop at TWOFOLD_THROTTLE_IP_FAILURES, and the audit trail names the real peer', async () => {
    const counts = await statusCounts(1000, 50, (index) =>
      host.inject({
        method: 'POST',
        url: '/auth/v1/login',
        remoteAddress: '203.0.113.50',
        headers: { ...jsonHeaders, 'x-forwarded-for': `198.51.${Math.floor(index / 250)}.${index % 250}` },
        payload: { username: uniqueUsername('spray'), password: 'not the password at all' },
      }),
    );
    expect(counts).toEqual({ 401: ipBudget, 429: 1000 - ipBudget });
    // Another client is not held back by the sprayer.
    const other = await host.inject({ method: 'POST', url: '/auth/v1/login', remoteAddress: '203.0.113.51', headers: jsonHeaders, payload: { username: uniqueUsername('other'), password: 'not the password at all' } });
    expect(other.statusCode).toBe(401);

    await embedded.twofold.context.auditTrail.flush();
    const recorded = await embedded.twofold.database.db.selectFrom('security_events').select('ip').distinct().where('type', '=', 'login.password_failed').where('ip', 'like', '%.%.%.%').execute();
    const addresses = recorded.map((row) => row.ip);
    expect(addresses).toContain('203.0.113.50');
    expect(addresses.filter((ip) => ip?.startsWith('198.51.'))).toEqual([]);
  });
});

/** A browser for the pages: a cookie jar in front of inject. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly host: () => FastifyInstance) {}

  async send(options: InjectOptions & { url: string }): Promise<LightMyRequestResponse> {
    const jar = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await this.host().inject({ ...options, headers: { ...(jar === '' ? {} : { cookie: jar }), ...(options.headers as Record<string, string> | undefined) } });
    const header = response.headers['set-cookie'];
    for (const line of header === undefined ? [] : [header].flat()) {
      const [pair = ''] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = decodeURIComponent(pair.slice(pair.indexOf('=') + 1));
      if (value === '' || /max-age=0\b/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  postForm(url: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
    return this.send({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() });
  }
}

describe('Twofold with its pages at the root of a host that trusts no proxy and has @fastify/cookie', () => {
  let embedded: Embedded;
  let host: FastifyInstance;

  beforeAll(async () => {
    embedded = await createEmbeddedTwofold({
      TWOFOLD_PUBLIC_URL: 'http://host.test',
      TWOFOLD_THROTTLE_IP_FAILURES: String(ipBudget),
      TWOFOLD_TRUSTED_PROXIES: '10.0.0.0/8',
      TWOFOLD_CORS_ORIGINS: appOrigin,
    });
    host = await buildHost(embedded.twofold, { trustProxy: false, pages: true });
  });
  afterAll(async () => {
    await host?.close();
    await embedded?.close();
  });

  it('SS-08: the pages mount beside the host\'s @fastify/cookie and work with their own __Host- cookies and CSRF tokens', async () => {
    const browser = new Browser(() => host);
    const page = await browser.send({ method: 'GET', url: '/sign-up' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect([page.headers['set-cookie']].flat().join('\n')).toMatch(/^__Host-twofold-csrf=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Strict$/m);
    const csrf = browser.cookies.get('__Host-twofold-csrf') ?? '';
    expect(page.body).toContain(`name="csrf" value="${csrf}"`);

    const username = uniqueUsername('page');
    const forged = await browser.postForm('/sign-up', { username, password: strongPassword });
    expect(forged.statusCode).toBe(403);
    const signedUp = await browser.postForm('/sign-up', { csrf, username, password: strongPassword });
    expect(signedUp.statusCode).toBe(303);
    expect(signedUp.headers['location']).toBe('/enroll');
    expect(browser.cookies.has('__Host-twofold-pending')).toBe(true);
    const enroll = await browser.send({ method: 'GET', url: '/enroll' });
    expect(enroll.statusCode).toBe(200);
    expect(enroll.body).toContain('Protect your account');
    // The host's icon stays the host's; the pages' own is at their asset path.
    const icon = await browser.send({ method: 'GET', url: '/favicon.ico' });
    expect(icon.statusCode).toBe(200);
    expect(icon.body).toBe('host icon');
    expect((await browser.send({ method: 'GET', url: '/assets/favicon.svg' })).headers['content-type']).toBe('image/svg+xml');
  });

  it("CORS: Twofold's own origins get Twofold's policy (no credentials) from the host's @fastify/cors; other origins get nothing; mounting did not clash", async () => {
    const listed = await host.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: appOrigin } });
    expect(listed.headers['access-control-allow-origin']).toBe(appOrigin);
    expect(listed.headers['access-control-allow-credentials']).toBeUndefined();
    const other = await host.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { origin: evilOrigin } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect((await host.inject({ method: 'GET', url: '/app/whoami', headers: { origin: evilOrigin } })).headers['access-control-allow-origin']).toBe(evilOrigin);
  });

  it('LG-05: with the host trusting no proxy, Twofold still believes TWOFOLD_TRUSTED_PROXIES: clients behind the proxy each have their own budget', async () => {
    const behindProxy = (client: string) =>
      host.inject({
        method: 'POST',
        url: '/v1/login',
        remoteAddress: '10.1.2.3',
        headers: { ...jsonHeaders, 'x-forwarded-for': client },
        payload: { username: uniqueUsername('proxied'), password: 'not the password at all' },
      });
    expect(await statusCounts(ipBudget + 5, 5, () => behindProxy('198.51.100.1'))).toEqual({ 401: ipBudget, 429: 5 });
    expect((await behindProxy('198.51.100.2')).statusCode).toBe(401);
    // The host's request.ip is the proxy's address; Twofold's records name the client.
    expect(JSON.parse((await host.inject({ method: 'GET', url: '/app/whoami', remoteAddress: '10.1.2.3', headers: { 'x-forwarded-for': '198.51.100.1' } })).body).host_serialized.ip).toBe('10.1.2.3');
    await embedded.twofold.context.auditTrail.flush();
    const recorded = await embedded.twofold.database.db.selectFrom('security_events').select('ip').distinct().where('type', '=', 'login.password_failed').execute();
    expect(recorded.map((row) => row.ip).sort()).toEqual(['198.51.100.1', '198.51.100.2']);
  });
});
