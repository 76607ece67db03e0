// The framework adapters of twofold/verify: a Fastify plugin and an Express middleware in real
// apps (the Express one over real HTTP), and the plain function — all answering failures with
// RFC 6750 / RFC 9470 WWW-Authenticate challenges and problem+json bodies.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateRequest, bearerToken, createVerifier, requireAuth, twofoldAuth, type Verifier } from '../../src/verify/index.js';
import { signIn, signUp, type SignedUp } from '../helpers/flow.js';
import { realKeyOf, signWithRealKey } from '../helpers/jwt-forgery.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';

let t: ListeningTwofold;
let user: SignedUp;
let verifier: Verifier;

beforeAll(async () => {
  t = await startListeningTwofold();
  user = await signUp(t);
  verifier = createVerifier({ issuer: t.baseUrl, audience: t.config.audience, now: t.clock.now, revocations: { intervalMs: 50 } });
});
afterAll(async () => {
  verifier.close();
  await t.close();
});

/**
 * The same login's token re-signed with Twofold's own key at another `acr`: what the server issues
 * after a passkey sign-in that asked for phr / phrh (a fresh jti, so the verifier's cache is no help).
 */
async function tokenWithAcr(accessToken: string, acr: string, amr: string[]): Promise<string> {
  const key = await realKeyOf(t);
  return signWithRealKey(key, { kid: decodeProtectedHeader(accessToken).kid, typ: 'at+jwt' }, { ...decodeJwt(accessToken), acr, amr, jti: randomUUID() });
}

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: Record<string, unknown>;
}

/** The same checks for every adapter: what a client sees for each kind of request. */
function describeGuardedApi(name: string, request: (path: string, authorization?: string) => Promise<Answer>): void {
  describe(name, () => {
    it('no Authorization header: 401 with a bare Bearer challenge (RFC 6750 §3.1: no error code)', async () => {
      const answer = await request('/profile');
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="example-api"');
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ status: 401, code: 'invalid_token' });
    });

    it('JW-01: a tampered token: 401 error="invalid_token"', async () => {
      const { accessToken } = await signIn(t, user);
      const [h, p, s] = accessToken.split('.') as [string, string, string];
      // One payload character changed (always a different one, never the padding bits at the end).
      const tampered = `${h}.${p.slice(0, 10)}${p[10] === 'A' ? 'B' : 'A'}${p.slice(11)}.${s}`;
      expect(tampered).not.toBe(accessToken);
      for (const authorization of [`Bearer ${tampered}`, 'Bearer', `Basic ${Buffer.from('a:b').toString('base64')}`]) {
        const answer = await request('/profile', authorization);
        expect(answer.status, authorization).toBe(401);
        expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="example-api", error="invalid_token", error_description="/);
        expect(answer.body).toMatchObject({ code: 'invalid_token' });
      }
    });

    it('a valid token: the handler sees the claims', async () => {
      const { accessToken } = await signIn(t, user);
      const answer = await request('/profile', `Bearer ${accessToken}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ sub: user.userId, acr: 'aal2' });
      expect((await request('/payments', `bearer ${accessToken}`)).status).toBe(200);
    });

    it('SS-09: an authentication older than the route allows: 401 insufficient_user_authentication with max_age and acr_values (RFC 9470)', async () => {
      const { accessToken } = await signIn(t, user);
      t.clock.advanceSeconds(301);
      const answer = await request('/payments', `Bearer ${accessToken}`);
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/error="insufficient_user_authentication"/);
      expect(answer.headers['www-authenticate']).toMatch(/max_age=300/);
      expect(answer.body).toMatchObject({ code: 'insufficient_authentication' });
      expect((await request('/profile', `Bearer ${accessToken}`)).status).toBe(200);
    });

    it('SS-10: a route demanding acr "phr" refuses an aal2 token with 401 insufficient_user_authentication and acr_values="phr" (RFC 9470), and serves a phr one', async () => {
      const { accessToken } = await signIn(t, user);
      const refused = await request('/transfers', `Bearer ${accessToken}`);
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toMatch(/error="insufficient_user_authentication"/);
      expect(refused.headers['www-authenticate']).toMatch(/acr_values="phr"/);
      expect(refused.body).toMatchObject({ code: 'insufficient_authentication' });

      const phr = await tokenWithAcr(accessToken, 'phr', ['swk', 'mfa']);
      expect(await request('/transfers', `Bearer ${phr}`)).toMatchObject({ status: 200, body: { acr: 'phr' } });
      const phrRefused = await request('/signing-keys', `Bearer ${phr}`);
      expect(phrRefused.status).toBe(401);
      expect(phrRefused.headers['www-authenticate']).toMatch(/acr_values="phrh"/);
      const phrh = await tokenWithAcr(accessToken, 'phrh', ['hwk', 'mfa']);
      expect(await request('/signing-keys', `Bearer ${phrh}`)).toMatchObject({ status: 200, body: { acr: 'phrh' } });
      expect(await request('/transfers', `Bearer ${phrh}`)).toMatchObject({ status: 200, body: { acr: 'phrh' } });
    });

    it('a route without the guard runs without a token', async () => {
      expect(await request('/open')).toMatchObject({ status: 200, body: { auth: null } });
    });
  });
}

describe('Fastify plugin', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    await app.register(twofoldAuth, { verifier, realm: 'example-api' });
    // In a child scope, like most apps organise routes: the decorators reach it.
    await app.register(async (routes) => {
      routes.get('/profile', { preHandler: routes.requireAuth() }, async (request) => ({ sub: request.auth?.sub, acr: request.auth?.acr }));
      routes.get('/payments', { preHandler: routes.requireAuth({ acr: 'aal2', maxAge: 300 }) }, async (request) => ({ sub: request.auth?.sub }));
      routes.get('/transfers', { preHandler: routes.requireAuth({ acr: 'phr' }) }, async (request) => ({ acr: request.auth?.acr }));
      routes.get('/signing-keys', { preHandler: routes.requireAuth({ acr: 'phrh' }) }, async (request) => ({ acr: request.auth?.acr }));
      routes.get('/open', async (request) => ({ auth: request.auth }));
    });
    await app.ready();
  });
  afterAll(async () => app.close());

  describeGuardedApi('Fastify plugin (request.auth, app.requireAuth)', async (path, authorization) => {
    const response = await app.inject({ method: 'GET', url: path, headers: authorization === undefined ? {} : { authorization } });
    return { status: response.statusCode, headers: response.headers as Record<string, string>, body: response.json() };
  });
});

describe('Express middleware', () => {
  let server: ReturnType<ReturnType<typeof express>['listen']>;
  let baseUrl: string;
  beforeAll(async () => {
    const app = express();
    const options = { realm: 'example-api' };
    app.get('/profile', requireAuth(verifier, options), (request, response) => {
      response.json({ sub: request.auth?.sub, acr: request.auth?.acr });
    });
    app.get('/payments', requireAuth(verifier, { ...options, acr: 'aal2', maxAge: 300 }), (request, response) => {
      response.json({ sub: request.auth?.sub });
    });
    app.get('/transfers', requireAuth(verifier, { ...options, acr: 'phr' }), (request, response) => {
      response.json({ acr: request.auth?.acr });
    });
    app.get('/signing-keys', requireAuth(verifier, { ...options, acr: 'phrh' }), (request, response) => {
      response.json({ acr: request.auth?.acr });
    });
    app.get('/open', (request, response) => {
      response.json({ auth: request.auth ?? null });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise((resolve) => server.close(resolve)));

  describeGuardedApi('Express middleware (req.auth)', async (path, authorization) => {
    const response = await fetch(`${baseUrl}${path}`, { headers: authorization === undefined ? {} : { authorization } });
    return { status: response.status, headers: Object.fromEntries(response.headers), body: (await response.json()) as Record<string, unknown> };
  });
});

describe('the plain function', () => {
  it('authenticateRequest(): claims for a good header, a ready-made failure otherwise', async () => {
    const { accessToken } = await signIn(t, user);
    const good = await authenticateRequest(verifier, `Bearer ${accessToken}`, { acr: 'aal2' });
    expect(good).toMatchObject({ ok: true, claims: { sub: user.userId } });
    const bad = await authenticateRequest(verifier, 'Bearer x.y.z');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.failure).toMatchObject({ status: 401, body: { code: 'invalid_token' }, headers: { 'www-authenticate': expect.stringMatching(/^Bearer error="invalid_token"/) } });
  });

  it('an unreachable issuer is 503 with Retry-After, not a 401 that would sign the user out', async () => {
    const offline = createVerifier({ issuer: 'http://127.0.0.1:9', audience: 'x', timeoutMs: 200, revocations: false });
    const { accessToken } = await signIn(t, user);
    const result = await authenticateRequest(offline, `Bearer ${accessToken}`);
    expect(result).toMatchObject({ ok: false, failure: { status: 503, headers: { 'retry-after': '5' }, body: { code: 'verifier_unavailable' } } });
    expect(result.ok === false && result.failure.headers['www-authenticate']).toBe(undefined);
  });

  it('bearerToken(): only the Bearer scheme (case-insensitive), one token68', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken(['Bearer a', 'Bearer b'])).toBeUndefined();
  });
});
