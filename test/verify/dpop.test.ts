// DPoP (RFC 9449) in twofold/verify: tokens bound to a key (`cnf.jkt`) from a stand-in issuer
// served over real HTTP, proofs made with real ES256 / Ed25519 keys, and real Fastify and Express
// apps (Express over real HTTP, under a mounted router). Each adapter gets the same checks: the
// bound token with its proof is accepted, and every way of getting the proof wrong is a 401 with
// the RFC's challenge — never a bound token accepted as a bearer token.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Base64url } from '../../src/core/crypto/digest.js';
import { authenticateRequest, createMemoryDpopReplayStore, createRedisDpopReplayStore, createVerifier, requireAuth, twofoldAuth, type Verifier, type VerifierOptions } from '../../src/verify/index.js';
import { createRedisPrefix, testRedisUrl } from '../helpers/backend.js';
import { createDpopTestKey, makeDpopProof, type DpopTestKey } from '../helpers/dpop-proofs.js';
import { requirement } from '../helpers/requirements.js';
import { audience, issuer, nowSeconds, startTestIssuer, thumbprintOf, type TestIssuer } from './dpop-fixture.js';

let testIssuer: TestIssuer;
let key: DpopTestKey;
let otherKey: DpopTestKey;
const verifiers: Verifier[] = [];

function verifierWith(options: Partial<VerifierOptions> = {}): Verifier {
  const verifier = createVerifier({ issuer, audience, jwksUri: testIssuer.jwksUri, revocations: false, ...options });
  verifiers.push(verifier);
  return verifier;
}

beforeAll(async () => {
  testIssuer = await startTestIssuer();
  key = await createDpopTestKey('ES256');
  otherKey = await createDpopTestKey('EdDSA');
});
afterAll(async () => {
  for (const verifier of verifiers) verifier.close();
  await testIssuer.close();
});

/** A well-formed proof of `proofKey` for this request and token; `claims` / `signWith` spoil it on purpose. */
function proof(proofKey: DpopTestKey, method: string, url: string, token: string, extra: Partial<Parameters<typeof makeDpopProof>[0]> = {}): Promise<string> {
  return makeDpopProof({ key: proofKey, htm: method, htu: url, iat: nowSeconds(), ...extra, claims: { ath: sha256Base64url(token), ...extra.claims } });
}

interface Call {
  method?: string;
  path: string;
  authorization?: string;
  dpop?: string;
  headers?: Record<string, string>;
}

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: Record<string, unknown>;
}

/** The same DPoP checks for every adapter: `htu(path)` is the URL a client addresses the route at. */
function describeDpopApi(name: string, call: (request: Call) => Promise<Answer>, htu: (path: string) => string): void {
  describe(name, () => {
    const dpopCall = async (token: string, path = '/profile', method = 'GET', proofValue?: string): Promise<Answer> =>
      call({ method, path, authorization: `DPoP ${token}`, dpop: proofValue ?? (await proof(key, method, htu(path), token)) });

    it('DP-20: a bound token with a valid proof is accepted (GET and POST); the handler sees its claims and cnf', async () => {
      const token = await testIssuer.mint({ boundTo: key });
      const answer = await dpopCall(token);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ sub: 'user-1', jkt: await thumbprintOf(key) });
      expect((await dpopCall(token, '/orders', 'POST')).status).toBe(200);
      // The scheme is case-insensitive (RFC 9110 §11.1).
      expect((await call({ path: '/profile', authorization: `dpop ${token}`, dpop: await proof(key, 'GET', htu('/profile'), token) })).status).toBe(200);
    });

    it('DP-20: an unbound token still works as Bearer under the default policy', async () => {
      const token = await testIssuer.mint();
      expect(await call({ path: '/profile', authorization: `Bearer ${token}` })).toMatchObject({ status: 200, body: { sub: 'user-1' } });
    });

    it('DP-21: a bound token sent as Bearer → 401 invalid_token with a DPoP challenge (and with a proof alongside, too)', async () => {
      const token = await testIssuer.mint({ boundTo: key });
      for (const dpop of [undefined, await proof(key, 'GET', htu('/profile'), token)]) {
        const answer = await call({ path: '/profile', authorization: `Bearer ${token}`, ...(dpop === undefined ? {} : { dpop }) });
        expect(answer.status).toBe(401);
        expect(answer.headers['www-authenticate']).toMatch(/^DPoP realm="example-api", error="invalid_token", error_description="The token is bound to a DPoP key[^"]*", algs="ES256 EdDSA"$/);
        expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(answer.body).toMatchObject({ status: 401, code: 'invalid_token' });
      }
    });

    it('DP-21: an unbound token sent with the DPoP scheme → 401 invalid_token', async () => {
      const token = await testIssuer.mint();
      const answer = await dpopCall(token);
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/^DPoP realm="example-api", error="invalid_token"/);
    });

    it('DP-22: the DPoP scheme without a proof, or with a proof of another key → 401 invalid_dpop_proof', async () => {
      const token = await testIssuer.mint({ boundTo: key });
      const withoutProof = await call({ path: '/profile', authorization: `DPoP ${token}` });
      expect(withoutProof.status).toBe(401);
      expect(withoutProof.headers['www-authenticate']).toBe('DPoP realm="example-api", error="invalid_dpop_proof", error_description="A DPoP proof is required.", algs="ES256 EdDSA"');
      expect(withoutProof.body).toMatchObject({ status: 401, code: 'invalid_dpop_proof', title: 'Invalid DPoP proof' });
      const anotherKey = await dpopCall(token, '/profile', 'GET', await proof(otherKey, 'GET', htu('/profile'), token));
      expect(anotherKey).toMatchObject({ status: 401, body: { code: 'invalid_dpop_proof', detail: 'The DPoP proof is signed by another key than the token is bound to.' } });
    });

    it('DP-22: a proof for another token (ath), another method (htm) or another URL (htu) → 401 invalid_dpop_proof', async () => {
      const token = await testIssuer.mint({ boundTo: key });
      const otherToken = await testIssuer.mint({ boundTo: key });
      const refusals: [string, string][] = [
        ['ath', await proof(key, 'GET', htu('/profile'), otherToken)],
        ['htm', await proof(key, 'POST', htu('/profile'), token)],
        ['htu', await proof(key, 'GET', htu('/orders'), token)],
        ['htu', await proof(key, 'GET', htu('/profile').replace(/^http:/, 'https:'), token)],
        ['htu', await proof(key, 'GET', htu('/profile').replace(/\/\/[^/]+/, '//evil.example'), token)],
      ];
      for (const [claim, spoiled] of refusals) {
        const answer = await dpopCall(token, '/profile', 'GET', spoiled);
        expect(answer.status, claim).toBe(401);
        expect(answer.body['code'], claim).toBe('invalid_dpop_proof');
        expect(answer.body['detail'], claim).toMatch(new RegExp(claim));
      }
      // The same token with a right proof afterwards: none of the refusals used anything up.
      expect((await dpopCall(token)).status).toBe(200);
    });

    it('DP-22: the query string is no part of htu (RFC 9449 §4.3)', async () => {
      const token = await testIssuer.mint({ boundTo: key });
      expect((await dpopCall(token, '/profile?page=2', 'GET', await proof(key, 'GET', htu('/profile'), token))).status).toBe(200);
    });

    it('DP-23: a proof is accepted once; replayed (same token, same request) → 401 invalid_dpop_proof', async () => {
      const token = await testIssuer.mint({ boundTo: key });
      const once = await proof(key, 'GET', htu('/profile'), token);
      expect((await dpopCall(token, '/profile', 'GET', once)).status).toBe(200);
      expect(await dpopCall(token, '/profile', 'GET', once)).toMatchObject({ status: 401, body: { code: 'invalid_dpop_proof', detail: 'The DPoP proof was used already.' } });
    });

    it('DP-25: a token in the verified-token cache still needs a valid proof on every request', async () => {
      const token = await testIssuer.mint({ boundTo: key });
      expect((await dpopCall(token)).status).toBe(200);
      const before = sharedVerifier.stats();
      expect((await dpopCall(token, '/profile', 'GET', await proof(otherKey, 'GET', htu('/profile'), token))).status).toBe(401);
      expect((await call({ path: '/profile', authorization: `DPoP ${token}` })).status).toBe(401);
      expect((await call({ path: '/profile', authorization: `Bearer ${token}` })).status).toBe(401);
      const after = sharedVerifier.stats();
      expect(after.cacheHits - before.cacheHits).toBe(3);
      expect(after.signatureChecks).toBe(before.signatureChecks);
      expect(after.dpopProofChecks - before.dpopProofChecks).toBe(2);
    });

    it('DP-27: a route requiring DPoP refuses Bearer (even an unbound, valid token) with a DPoP challenge; no token → a bare DPoP challenge', async () => {
      const unbound = await testIssuer.mint();
      const bearer = await call({ path: '/strict', authorization: `Bearer ${unbound}` });
      expect(bearer.status).toBe(401);
      expect(bearer.headers['www-authenticate']).toMatch(/^DPoP realm="example-api", error="invalid_token", error_description="This resource requires a DPoP-bound token[^"]*", algs="ES256 EdDSA"$/);
      const none = await call({ path: '/strict' });
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe('DPoP realm="example-api", algs="ES256 EdDSA"');
      const bound = await testIssuer.mint({ boundTo: key });
      expect((await dpopCall(bound, '/strict')).status).toBe(200);
      // Under 'allowed', no token still gets the plain Bearer challenge.
      expect((await call({ path: '/profile' })).headers['www-authenticate']).toBe('Bearer realm="example-api"');
    });

    it('DP-27: the route\'s acr / max_age demands hold for DPoP tokens too, answered with a DPoP challenge', async () => {
      const old = await testIssuer.mint({ boundTo: key, claims: { auth_time: nowSeconds() - 301 } });
      const answer = await dpopCall(old, '/payments');
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/^DPoP realm="example-api", error="insufficient_user_authentication", .*max_age=300, algs="ES256 EdDSA"$/);
      expect((await dpopCall(await testIssuer.mint({ boundTo: key }), '/payments')).status).toBe(200);
    });

    it('DP-27: garbage Authorization and DPoP headers are 401s, never a 500', async () => {
      const token = await testIssuer.mint({ boundTo: key });
      const garbage: Call[] = [
        { path: '/profile', authorization: 'DPoP' },
        { path: '/profile', authorization: 'DPoP a b' },
        { path: '/profile', authorization: `DPoP ${token}`, dpop: 'x'.repeat(9000) },
        { path: '/profile', authorization: `DPoP ${token}`, dpop: '{}.{}.{}' },
        { path: '/profile', authorization: `DPoP ${token}`, dpop: `${await proof(key, 'GET', htu('/profile'), token)}, ${await proof(key, 'GET', htu('/profile'), token)}` },
        { path: '/profile', authorization: 'DPoP eyJhbGciOiJub25lIn0.e30.', dpop: 'a.b.c' },
        { path: '/strict', authorization: '\u00e9\u00e9', dpop: '' },
        { path: '/profile', authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', htu('/profile'), token, { claims: { iat: 'soon' as never, htu: 42 as never } }) },
      ];
      for (const request of garbage) {
        const answer = await call(request).catch(() => ({ status: 0, headers: {}, body: {} }) as Answer);
        if (answer.status === 0) continue; // the HTTP client itself refused to send the header
        expect(answer.status, JSON.stringify(request).slice(0, 80)).toBe(401);
        expect(answer.body['code']).toMatch(/^invalid_(token|dpop_proof)$/);
      }
    });
  });
}

let sharedVerifier: Verifier;

describe('adapters', () => {
  beforeAll(() => {
    sharedVerifier = verifierWith();
  });

  describe('Fastify plugin', () => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = Fastify();
      await app.register(twofoldAuth, { verifier: sharedVerifier, realm: 'example-api' });
      await app.register(async (routes) => {
        const handler = async (request: FastifyRequest) => ({ sub: request.auth?.sub, jkt: request.auth?.cnf?.jkt });
        routes.get('/profile', { preHandler: routes.requireAuth() }, handler);
        routes.post('/orders', { preHandler: routes.requireAuth() }, handler);
        routes.get('/strict', { preHandler: routes.requireAuth({ dpop: 'required' }) }, handler);
        routes.get('/payments', { preHandler: routes.requireAuth({ acr: 'aal2', maxAge: 300 }) }, handler);
      });
      await app.ready();
    });
    afterAll(async () => app.close());

    describeDpopApi(
      'Fastify (app.inject: http://localhost)',
      async (request) => {
        const headers = { ...request.headers, ...(request.authorization === undefined ? {} : { authorization: request.authorization }), ...(request.dpop === undefined ? {} : { dpop: request.dpop }) };
        const response = await app.inject({ method: (request.method ?? 'GET') as 'GET', url: request.path, headers });
        return { status: response.statusCode, headers: response.headers as Record<string, string>, body: response.json() };
      },
      (path) => `http://localhost${path}`,
    );
  });

  describe('Express middleware (under a router mounted at /api)', () => {
    let server: ReturnType<ReturnType<typeof express>['listen']>;
    let baseUrl: string;
    beforeAll(async () => {
      const app = express();
      const router = express.Router();
      const options = { realm: 'example-api' };
      const handler = (request: express.Request, response: express.Response) => {
        response.json({ sub: request.auth?.sub, jkt: request.auth?.cnf?.jkt });
      };
      router.get('/profile', requireAuth(sharedVerifier, options), handler);
      router.post('/orders', requireAuth(sharedVerifier, options), handler);
      router.get('/strict', requireAuth(sharedVerifier, { ...options, dpop: 'required' }), handler);
      router.get('/payments', requireAuth(sharedVerifier, { ...options, acr: 'aal2', maxAge: 300 }), handler);
      app.use('/api', router);
      server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => new Promise((resolve) => server.close(resolve)));

    describeDpopApi(
      'Express (real HTTP)',
      async (request) => {
        const headers = { ...request.headers, ...(request.authorization === undefined ? {} : { authorization: request.authorization }), ...(request.dpop === undefined ? {} : { dpop: request.dpop }) };
        const response = await fetch(`${baseUrl}/api${request.path}`, { method: request.method ?? 'GET', headers });
        return { status: response.status, headers: Object.fromEntries(response.headers), body: (await response.json()) as Record<string, unknown> };
      },
      (path) => `${baseUrl}/api${path}`,
    );
  });
});

describe('DP-23: replay across instances', () => {
  it('DP-23: two verifiers with their own in-process stores each accept a proof once — which is why instances need a shared store', async () => {
    const [first, second] = [verifierWith(), verifierWith()];
    const token = await testIssuer.mint({ boundTo: key });
    const url = 'https://api.example.test/profile';
    const once = await proof(key, 'GET', url, token);
    const request = { method: 'GET', url, authorization: `DPoP ${token}`, dpop: once };
    expect((await authenticateRequest(first, request)).ok).toBe(true);
    expect(await authenticateRequest(first, request)).toMatchObject({ ok: false, error: { code: 'invalid_dpop_proof' } });
    expect((await authenticateRequest(second, request)).ok).toBe(true);
  });

  it('DP-23: two verifiers given one createMemoryDpopReplayStore() share its claims', async () => {
    const replay = createMemoryDpopReplayStore();
    const [first, second] = [verifierWith({ dpop: { replay } }), verifierWith({ dpop: { replay } })];
    const token = await testIssuer.mint({ boundTo: key });
    const url = 'https://api.example.test/profile';
    const request = { method: 'GET', url, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', url, token) };
    expect((await authenticateRequest(first, request)).ok).toBe(true);
    expect(await authenticateRequest(second, request)).toMatchObject({ ok: false, error: { code: 'invalid_dpop_proof' } });
  });

  const redisAvailable = requirement('Redis for the shared DPoP replay store', testRedisUrl !== undefined, 'set TWOFOLD_TEST_REDIS_URL=redis://127.0.0.1:6379');
  describe.skipIf(!redisAvailable)('on Redis (createRedisDpopReplayStore with ioredis)', () => {
    const redis = testRedisUrl === undefined ? undefined : createRedisPrefix();
    let clients: Redis[] = [];
    afterAll(async () => {
      for (const client of clients) client.disconnect();
      await redis?.dispose();
    });

    it('DP-23: a proof accepted by one instance is refused by the other; of 10 concurrent uses over both, one is accepted', async () => {
      clients = [new Redis(testRedisUrl ?? ''), new Redis(testRedisUrl ?? '')];
      const [first, second] = clients.map((client) => verifierWith({ dpop: { replay: createRedisDpopReplayStore(client, { keyPrefix: `${redis?.prefix ?? ''}dpop:` }) } })) as [Verifier, Verifier];
      const token = await testIssuer.mint({ boundTo: key });
      const url = 'https://api.example.test/profile';
      const request = async () => ({ method: 'GET', url, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', url, token) });
      const shared = await request();
      expect((await authenticateRequest(first, shared)).ok).toBe(true);
      expect(await authenticateRequest(second, shared)).toMatchObject({ ok: false, error: { code: 'invalid_dpop_proof', message: 'The DPoP proof was used already.' } });
      expect((await authenticateRequest(second, await request())).ok).toBe(true);

      const raced = await request();
      const results = await Promise.all(Array.from({ length: 10 }, (_, index) => authenticateRequest(index % 2 === 0 ? first : second, raced)));
      expect(results.filter((result) => result.ok)).toHaveLength(1);
    });

    it('DP-23: Redis unreachable → 503 verifier_unavailable with Retry-After (the proof may be fine), never a 500 or a pass', async () => {
      const down = new Redis('redis://127.0.0.1:9', { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
      clients.push(down);
      const verifier = verifierWith({ dpop: { replay: createRedisDpopReplayStore(down) } });
      const token = await testIssuer.mint({ boundTo: key });
      const url = 'https://api.example.test/profile';
      const result = await authenticateRequest(verifier, { method: 'GET', url, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', url, token) });
      expect(result).toMatchObject({ ok: false, failure: { status: 503, headers: { 'retry-after': '5' }, body: { code: 'verifier_unavailable' } } });
    });
  });
});

describe('DP-24: server nonces', () => {
  const secret = randomBytes(32);
  const url = 'https://api.example.test/profile';

  it('DP-24: with a nonce required, a proof without one → 401 use_dpop_nonce and a DPoP-Nonce header; the retry with it is accepted and gets the nonce again', async () => {
    const verifier = verifierWith({ dpop: { nonce: { secret } } });
    const token = await testIssuer.mint({ boundTo: key });
    const first = await authenticateRequest(verifier, { method: 'GET', url, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', url, token) });
    expect(first.ok).toBe(false);
    if (first.ok) return;
    expect(first.failure.status).toBe(401);
    expect(first.failure.headers['www-authenticate']).toBe('DPoP error="use_dpop_nonce", error_description="A fresh DPoP nonce is required.", algs="ES256 EdDSA"');
    expect(first.failure.body).toMatchObject({ code: 'use_dpop_nonce', title: 'A DPoP nonce is required' });
    const nonce = first.failure.headers['dpop-nonce'];
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const retry = await authenticateRequest(verifier, { method: 'GET', url, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', url, token, { claims: { nonce } }) });
    expect(retry).toMatchObject({ ok: true, claims: { sub: 'user-1' }, headers: { 'dpop-nonce': nonce } });
    // Another instance with the same secret accepts it (stateless nonces); one with another secret does not.
    const sibling = verifierWith({ dpop: { nonce: { secret } } });
    expect((await authenticateRequest(sibling, { method: 'GET', url, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', url, token, { claims: { nonce } }) })).ok).toBe(true);
    const stranger = verifierWith({ dpop: { nonce: { secret: randomBytes(32) } } });
    expect(await authenticateRequest(stranger, { method: 'GET', url, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', url, token, { claims: { nonce } }) })).toMatchObject({
      ok: false,
      error: { code: 'use_dpop_nonce' },
    });
  });

  it('DP-24: over Fastify, the 401 carries DPoP-Nonce and so does the accepted retry; Bearer requests get no nonce', async () => {
    const verifier = verifierWith({ dpop: { nonce: { secret, windowSeconds: 30 } } });
    const app = Fastify();
    await app.register(twofoldAuth, { verifier });
    app.get('/profile', { preHandler: app.requireAuth() }, async (request) => ({ sub: request.auth?.sub }));
    const token = await testIssuer.mint({ boundTo: key });
    const htu = 'http://localhost/profile';
    const refused = await app.inject({ url: '/profile', headers: { authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', htu, token) } });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'use_dpop_nonce' });
    const nonce = refused.headers['dpop-nonce'] as string;
    expect(nonce).toBeTruthy();
    const accepted = await app.inject({ url: '/profile', headers: { authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', htu, token, { claims: { nonce } }) } });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.headers['dpop-nonce']).toBe(nonce);
    const bearer = await app.inject({ url: '/profile', headers: { authorization: `Bearer ${await testIssuer.mint()}` } });
    expect(bearer.statusCode).toBe(200);
    expect(bearer.headers['dpop-nonce']).toBeUndefined();
    await app.close();
  });

  it('DP-24: nonce.required false issues nonces without demanding them', async () => {
    const verifier = verifierWith({ dpop: { nonce: { secret, required: false } } });
    const token = await testIssuer.mint({ boundTo: key });
    const result = await authenticateRequest(verifier, { method: 'GET', url, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', url, token) });
    expect(result).toMatchObject({ ok: true, headers: { 'dpop-nonce': expect.any(String) } });
  });

  it('DP-24: a nonce secret under 32 bytes, or algorithms beyond ES256 / EdDSA (HS256, none, RS256, none at all), are refused at startup', () => {
    expect(() => createVerifier({ issuer, audience, dpop: { nonce: { secret: randomBytes(16) } } })).toThrow(/32 bytes/);
    expect(() => createVerifier({ issuer, audience, dpop: { algorithms: ['ES256', 'HS256'] } })).toThrow(TypeError);
    expect(() => createVerifier({ issuer, audience, dpop: { algorithms: ['none'] } })).toThrow(TypeError);
    expect(() => createVerifier({ issuer, audience, dpop: { algorithms: ['RS256'] } })).toThrow(TypeError);
    expect(() => createVerifier({ issuer, audience, dpop: { algorithms: [] } })).toThrow(TypeError);
  });
});

describe('DP-26: the URL a client addressed, behind a proxy', () => {
  const apps: FastifyInstance[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
  });

  async function fastifyApp(options: { publicUrl?: string; requestUrl?: (request: { url: string }) => string; trustProxy?: boolean }): Promise<FastifyInstance> {
    const app = Fastify({ trustProxy: options.trustProxy ?? false });
    apps.push(app);
    await app.register(twofoldAuth, {
      verifier: sharedVerifierForProxy(),
      ...(options.publicUrl === undefined ? {} : { publicUrl: options.publicUrl }),
      ...(options.requestUrl === undefined ? {} : { requestUrl: options.requestUrl }),
    });
    app.get('/orders', { preHandler: app.requireAuth({ dpop: 'required' }) }, async (request) => ({ sub: request.auth?.sub }));
    return app;
  }
  let proxyVerifier: Verifier | undefined;
  const sharedVerifierForProxy = (): Verifier => (proxyVerifier ??= verifierWith());

  const send = async (app: FastifyInstance, token: string, htu: string, headers: Record<string, string> = {}) =>
    (await app.inject({ url: '/orders?x=1', headers: { ...headers, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', htu, token) } })).statusCode;

  it('DP-26: with publicUrl, the proof names the public URL; a proof for the internal URL is refused', async () => {
    const app = await fastifyApp({ publicUrl: 'https://api.example.com' });
    const token = await testIssuer.mint({ boundTo: key });
    expect(await send(app, token, 'https://api.example.com/orders')).toBe(200);
    expect(await send(app, token, 'http://localhost/orders')).toBe(401);
  });

  it('DP-26: a publicUrl with a path prefix (a proxy that strips /shop) is prepended to the path', async () => {
    const app = await fastifyApp({ publicUrl: 'https://example.com/shop/' });
    const token = await testIssuer.mint({ boundTo: key });
    expect(await send(app, token, 'https://example.com/shop/orders')).toBe(200);
    expect(await send(app, token, 'https://example.com/orders')).toBe(401);
  });

  it('DP-26: requestUrl(request) decides the URL when given', async () => {
    const app = await fastifyApp({ requestUrl: (request) => `https://tenant.example.com${request.url}` });
    const token = await testIssuer.mint({ boundTo: key });
    expect(await send(app, token, 'https://tenant.example.com/orders')).toBe(200);
  });

  it('DP-26: X-Forwarded-Host / -Proto count only under the app\'s trustProxy', async () => {
    const forwarded = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    const token = await testIssuer.mint({ boundTo: key });
    const untrusting = await fastifyApp({});
    expect(await send(untrusting, token, 'https://evil.example/orders', forwarded)).toBe(401);
    expect(await send(untrusting, token, 'http://localhost/orders', forwarded)).toBe(200);
    const trusting = await fastifyApp({ trustProxy: true });
    expect(await send(trusting, token, 'https://evil.example/orders', forwarded)).toBe(200);
  });

  it('DP-26: Express with publicUrl, and with the app\'s "trust proxy"', async () => {
    const token = await testIssuer.mint({ boundTo: key });
    const app = express();
    app.set('trust proxy', true);
    app.get('/public', requireAuth(sharedVerifierForProxy(), { publicUrl: 'https://api.example.com' }), (_request, response) => response.json({}));
    app.get('/own', requireAuth(sharedVerifierForProxy()), (_request, response) => response.json({}));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = async (path: string, htu: string, headers: Record<string, string> = {}) =>
      (await fetch(`${base}${path}`, { headers: { ...headers, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', htu, token) } })).status;
    try {
      expect(await get('/public', 'https://api.example.com/public')).toBe(200);
      expect(await get('/public', `${base}/public`)).toBe(401);
      expect(await get('/own', 'https://api.example.org/own', { 'x-forwarded-host': 'api.example.org', 'x-forwarded-proto': 'https' })).toBe(200);
      expect(await get('/own', `${base}/own`)).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('DP-26: a plain node:http server (Connect style): the Host header and the socket give the URL', async () => {
    const token = await testIssuer.mint({ boundTo: key });
    const guard = requireAuth(sharedVerifierForProxy(), { dpop: 'required' });
    const server = createServer((request, response) => {
      guard(request, response, () => response.end('{"ok":true}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = async (htu: string) => (await fetch(`${base}/things?page=1`, { headers: { authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', htu, token) } })).status;
    try {
      expect(await get(`${base}/things`)).toBe(200);
      expect(await get(`${base.replace('http:', 'https:')}/things`)).toBe(401);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('DP-26: a publicUrl that is not an http(s) origin is refused at startup', async () => {
    await expect(fastifyApp({ publicUrl: 'api.example.com' })).rejects.toThrow(/publicUrl/);
    expect(() => requireAuth(sharedVerifierForProxy(), { publicUrl: 'https://api.example.com/?q=1' })).toThrow(/publicUrl/);
  });
});

describe('the verifier and authenticateRequest directly', () => {
  it('DP-21: verifier.verify() never accepts a bound token; verifyDpop() does with its proof', async () => {
    const verifier = verifierWith();
    const token = await testIssuer.mint({ boundTo: key });
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token', dpopChallenge: true });
    const url = 'https://api.example.test/x';
    await expect(verifier.verifyDpop(token, { method: 'GET', url, proof: await proof(key, 'GET', url, token) })).resolves.toMatchObject({ cnf: { jkt: await thumbprintOf(key) } });
  });

  it('DP-22: dpop.algorithms narrows what proofs may use, and the challenge\'s algs say so', async () => {
    const verifier = verifierWith({ dpop: { algorithms: ['EdDSA'] } });
    const token = await testIssuer.mint({ boundTo: key });
    const url = 'https://api.example.test/x';
    const refused = await authenticateRequest(verifier, { method: 'GET', url, authorization: `DPoP ${token}`, dpop: await proof(key, 'GET', url, token) });
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_dpop_proof' } });
    expect(refused.ok === false && refused.failure.headers['www-authenticate']).toMatch(/algs="EdDSA"$/);
    const edToken = await testIssuer.mint({ boundTo: otherKey });
    expect((await authenticateRequest(verifier, { method: 'GET', url, authorization: `DPoP ${edToken}`, dpop: await proof(otherKey, 'GET', url, edToken) })).ok).toBe(true);
  });

  it('DP-21: a token with another kind of cnf (no jkt) is refused both as Bearer and as DPoP', async () => {
    const verifier = verifierWith();
    const token = await testIssuer.mint({ claims: { cnf: { 'x5t#S256': 'abc' } } });
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token' });
    const url = 'https://api.example.test/x';
    await expect(verifier.verifyDpop(token, { method: 'GET', url, proof: await proof(key, 'GET', url, token) })).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('DP-21: the Authorization header alone (the older call form) cannot carry a DPoP token: 401, not a pass', async () => {
    const verifier = verifierWith();
    const token = await testIssuer.mint({ boundTo: key });
    expect(await authenticateRequest(verifier, `DPoP ${token}`)).toMatchObject({ ok: false, failure: { status: 401, body: { code: 'invalid_dpop_proof' } } });
    expect(await authenticateRequest(verifier, `Bearer ${token}`)).toMatchObject({ ok: false, failure: { status: 401, body: { code: 'invalid_token' } } });
    expect((await authenticateRequest(verifier, `Bearer ${await testIssuer.mint()}`)).ok).toBe(true);
  });
});
