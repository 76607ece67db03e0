// Library mode: Twofold inside another program. First the flows as functions of createTwofold()
// (no HTTP at all); then Twofold's routes mounted under /auth in an existing Fastify app that has
// its own routes, validator settings, error handler and 404 — each side keeps its own rules — and
// a host route protected by twofold/verify against the embedded issuer, over real HTTP.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { twofoldRoutes } from '../../src/index.js';
import { createVerifier, twofoldAuth, type Verifier } from '../../src/verify/index.js';
import type { TestClock } from '../helpers/clock.js';
import { createEmbeddedTwofold, type Embedded } from '../helpers/embedded.js';
import { strongPassword, uniqueUsername } from '../helpers/flow.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';
import { findFreePort } from '../helpers/process.js';

const codeFor = (secret: string, clock: TestClock) => generateTotpCode(secret, totpStepAt(clock.now()));

describe('createTwofold(): the flows as functions', () => {
  let embedded: Embedded;
  beforeAll(async () => {
    embedded = await createEmbeddedTwofold();
  });
  afterAll(async () => embedded.close());

  it('FL-01: register → confirm TOTP → login → verify → me, with no HTTP server at all', async () => {
    const { flows } = embedded.twofold;
    const username = uniqueUsername('lib');
    const registered = await flows.register({ username, password: strongPassword });
    expect(registered.totp.secret).toMatch(/^[A-Z2-7]+$/);
    const pending = await flows.authenticateMfaToken(registered.mfa_token);
    const confirmed = await flows.confirmFactor(pending, registered.totp.factor_id, { code: codeFor(registered.totp.secret, embedded.clock) });
    expect(confirmed).toMatchObject({ access_token: expect.any(String), recovery_codes: expect.any(Array) });

    embedded.clock.advanceSeconds(30);
    const login = await flows.login({ username, password: strongPassword });
    expect(login.next).toBe('verify');
    const tokens = await flows.verifySecondFactor(await flows.authenticateMfaToken(login.mfa_token), { code: codeFor(registered.totp.secret, embedded.clock) });
    expect(tokens).toMatchObject({ access_token: expect.any(String), refresh_token: expect.any(String) });
    const me = await flows.describeMe(await flows.authenticateAccessToken((tokens as { access_token: string }).access_token));
    expect(me).toMatchObject({ user: { username } });
  });

  it('FL-03: an mfa_token completes one login only, when called as a function too', async () => {
    const { flows } = embedded.twofold;
    const username = uniqueUsername('lib');
    const registered = await flows.register({ username, password: strongPassword });
    const pending = await flows.authenticateMfaToken(registered.mfa_token);
    await flows.confirmFactor(pending, registered.totp.factor_id, { code: codeFor(registered.totp.secret, embedded.clock) });
    await expect(flows.authenticateMfaToken(registered.mfa_token)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('factor labels: the flows refuse what the API schema refuses (C0 and C1 controls, DEL, bidi overrides, more than 64 characters), so pages and library callers cannot store them either', async () => {
    const { flows } = embedded.twofold;
    const registered = await flows.register({ username: uniqueUsername('lib'), password: strongPassword });
    const confirmed = await flows.confirmFactor(await flows.authenticateMfaToken(registered.mfa_token), registered.totp.factor_id, { code: codeFor(registered.totp.secret, embedded.clock) });
    const auth = await flows.authenticateAccessToken((confirmed as { access_token: string }).access_token);
    // An ANSI escape would reach an operator's terminal through `twofold users show`.
    await expect(flows.enrollFactor(auth, { type: 'webauthn', label: 'YubiKey\u001b[2J\u001b[31m' })).rejects.toMatchObject({ code: 'invalid_request', status: 400 });
    await expect(flows.enrollFactor(auth, { type: 'webauthn', label: '🔑'.repeat(65) })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(flows.renameFactor(auth, registered.totp.factor_id, 'Phone\napp')).rejects.toMatchObject({ code: 'invalid_request' });
    // C1 controls (U+009B is an 8-bit CSI), DEL and bidi overrides are refused as well.
    for (const label of ['Key\u009b31m', 'Key\u007f', 'Key \u202egnp.exe', 'Key\u2066x\u2069']) {
      await expect(flows.renameFactor(auth, registered.totp.factor_id, label), JSON.stringify(label)).rejects.toMatchObject({ code: 'invalid_request' });
    }
    expect(await flows.renameFactor(auth, registered.totp.factor_id, '👨\u200d👩\u200d👧 family')).toMatchObject({ label: '👨\u200d👩\u200d👧 family' });
    expect(await flows.renameFactor(auth, registered.totp.factor_id, ` ${'🔑'.repeat(64)} `)).toMatchObject({ label: '🔑'.repeat(64) });
    expect(await flows.renameFactor(auth, registered.totp.factor_id, '   ')).toMatchObject({ label: null });
  });

  it('WA-08/WA-09: a passkey alone signs in through twofold.flows (startPasskeySignIn, completePasskeySignIn), and a replay is the same TwofoldError the API answers with', async () => {
    const { flows } = embedded.twofold;
    const authenticator = createSoftAuthenticator();
    const registered = await flows.register({ username: uniqueUsername('libpk'), password: strongPassword });
    const pending = await flows.authenticateMfaToken(registered.mfa_token);
    const enrollment = (await flows.enrollFactor(pending, { type: 'webauthn' })) as { factor_id: string; challenge_id: string; options: Parameters<typeof authenticator.register>[0] };
    await flows.confirmFactor(pending, enrollment.factor_id, { credential: authenticator.register(enrollment.options), challenge_id: enrollment.challenge_id });
    const meta = { ip: '203.0.113.7', userAgent: 'library test' };
    const start = await flows.startPasskeySignIn(meta);
    const credential = authenticator.authenticate(start.options);
    const tokens = await flows.completePasskeySignIn({ challenge_id: start.challenge_id, credential }, meta);
    const me = await flows.describeMe(await flows.authenticateAccessToken(tokens.access_token));
    expect(me.session).toMatchObject({ acr: 'aal2', amr: ['swk', 'mfa'] });
    await expect(flows.completePasskeySignIn({ challenge_id: start.challenge_id, credential }, meta)).rejects.toMatchObject({ code: 'invalid_challenge', status: 400 });
  });

  it('a wrong password is the same TwofoldError the API answers with', async () => {
    await expect(embedded.twofold.flows.login({ username: uniqueUsername('nobody'), password: strongPassword })).rejects.toMatchObject({ code: 'invalid_credentials', status: 401 });
  });
});

describe('twofoldRoutes: mounted under /auth in an existing Fastify app', () => {
  let embedded: Embedded;
  let host: FastifyInstance;
  let baseUrl: string;
  let verifier: Verifier;

  beforeAll(async () => {
    const port = await findFreePort();
    baseUrl = `http://127.0.0.1:${port}`;
    embedded = await createEmbeddedTwofold({ TWOFOLD_PUBLIC_URL: `${baseUrl}/auth` });
    verifier = createVerifier({ issuer: `${baseUrl}/auth`, audience: embedded.twofold.config.audience, now: embedded.clock.now, revocations: { intervalMs: 50 } });

    // The host: Fastify's default validator (which coerces query strings), its own error and 404 format.
    host = Fastify();
    host.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => reply.code(error.statusCode ?? 500).send({ host_error: error.message }));
    host.setNotFoundHandler((_request, reply) => reply.code(404).send({ host_not_found: true }));
    host.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    host.get('/items/:id', { schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } } }, async (request) => ({ id: (request.params as { id: number }).id }));
    host.post('/notes', async (request) => ({ note: request.body }));
    await host.register(twofoldRoutes, { twofold: embedded.twofold, prefix: '/auth', pages: false });
    await host.register(twofoldAuth, { verifier });
    host.get('/orders', { preHandler: host.requireAuth({ acr: 'aal2' }) }, async (request) => ({ customer: request.auth?.sub }));
    await host.listen({ port, host: '127.0.0.1' });
  });
  afterAll(async () => {
    verifier.close();
    await host.close();
    await embedded.close();
  });

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, type: response.headers.get('content-type') ?? '', headers: response.headers, json: (await response.json()) as Record<string, any> };
  };

  it('the whole two-factor flow runs under the prefix, and its tokens open a host route guarded by twofold/verify', async () => {
    const username = uniqueUsername('host');
    const registered = await call('POST', '/auth/v1/register', { username, password: strongPassword });
    expect(registered.status).toBe(201);
    const secret = registered.json['totp'].secret as string;
    const confirmed = await call('POST', `/auth/v1/factors/${registered.json['totp'].factor_id}/verify`, { code: codeFor(secret, embedded.clock) }, registered.json['mfa_token']);
    expect(confirmed.status).toBe(200);
    embedded.clock.advanceSeconds(30);
    const login = await call('POST', '/auth/v1/login', { username, password: strongPassword });
    const verified = await call('POST', '/auth/v1/mfa/verify', { code: codeFor(secret, embedded.clock) }, login.json['mfa_token']);
    expect(verified.status).toBe(200);
    const accessToken = verified.json['access_token'] as string;
    expect((await call('GET', '/auth/v1/me', undefined, accessToken)).json).toMatchObject({ user: { username } });
    // The issuer includes the prefix, so discovery and the JWKS are found under it.
    const metadata = await call('GET', '/auth/.well-known/openid-configuration');
    expect(metadata.json['jwks_uri']).toBe(`${baseUrl}/auth/.well-known/jwks.json`);
    expect(await call('GET', '/orders', undefined, accessToken)).toMatchObject({ status: 200, json: { customer: registered.json['user'].id } });
    expect((await call('GET', '/orders')).status).toBe(401);
  });

  it('HT-02: Twofold keeps its rules inside the host: no coercion, JSON only, problem+json, no-store, security headers', async () => {
    const numeric = await call('POST', '/auth/v1/login', { username: 12345678, password: strongPassword });
    expect(numeric.status).toBe(400);
    expect(numeric.type).toMatch(/^application\/problem\+json/);
    expect(numeric.json).toMatchObject({ code: 'invalid_request' });
    expect(numeric.headers.get('cache-control')).toBe('no-store');
    expect(numeric.headers.get('x-content-type-options')).toBe('nosniff');
    const text = await fetch(`${baseUrl}/auth/v1/login`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'username=a' });
    expect(text.status).toBe(415);
    expect(((await text.json()) as { code: string }).code).toBe('unsupported_media_type');
  });

  it('the host keeps its own rules: its validator coerces, its parser reads text, its error and 404 formats answer', async () => {
    expect(await call('GET', '/items/42')).toMatchObject({ status: 200, json: { id: 42 } });
    expect((await call('GET', '/items/abc')).json).toHaveProperty('host_error');
    const note = await fetch(`${baseUrl}/notes`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(await note.json()).toEqual({ note: 'hello' });
    expect(await call('GET', '/nowhere')).toMatchObject({ status: 404, json: { host_not_found: true } });
    // Twofold's headers stay on Twofold's routes.
    expect((await fetch(`${baseUrl}/items/1`)).headers.get('cache-control')).toBeNull();
  });

  it('refuses to mount the hosted pages under a prefix (their links are root paths)', async () => {
    const other = Fastify();
    await expect(other.register(twofoldRoutes, { twofold: embedded.twofold, prefix: '/auth', pages: true })).rejects.toMatchObject({ code: 'invalid_request' });
    await other.close().catch(() => undefined);
  });
});
