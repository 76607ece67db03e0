// The examples in examples/ (a Fastify API and an Express API protected by twofold/verify),
// imported by package name exactly as a user's service would, run against a real Twofold over
// real HTTP: any token, an aal2-only route, and a route that needs a recent second factor.
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, postJson, signIn, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { realKeyOf, signWithRealKey } from '../helpers/jwt-forgery.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { createTwofoldClient } from '../../src/client/index.js';

interface ExampleServer {
  baseUrl: string;
  close(): Promise<void>;
}

let t: ListeningTwofold;
let user: SignedUp;

/** The examples are plain JavaScript programs; they import twofold/verify by package name. */
const importExample = (name: string): Promise<unknown> => import(new URL(`../../examples/${name}/server.mjs`, import.meta.url).href);

const verifierOptions = () => ({ now: t.clock.now, revocations: { intervalMs: 50 } });

const examples: Array<[name: string, start: (dpop?: 'allowed' | 'required') => Promise<ExampleServer>]> = [
  [
    'examples/fastify-api',
    async (dpop) => {
      const { createApp } = (await importExample('fastify-api')) as { createApp(options: unknown): Promise<FastifyInstance> };
      const app = await createApp({ issuer: t.baseUrl, audience: t.config.audience, dpop, verifier: verifierOptions() });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
    },
  ],
  [
    'examples/express-api',
    async (dpop) => {
      const { createApp } = (await importExample('express-api')) as { createApp(options: unknown): { app: Express; close(): void } };
      const { app, close } = createApp({ issuer: t.baseUrl, audience: t.config.audience, dpop, verifier: verifierOptions() });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      return {
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: async () => {
          close();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    },
  ],
];

beforeAll(async () => {
  t = await startListeningTwofold();
  user = await signUp(t);
});
afterAll(async () => t.close());

for (const [name, start] of examples) {
  describe(name, () => {
    let api: ExampleServer;
    beforeAll(async () => {
      api = await start();
    });
    afterAll(async () => api.close());

    const call = async (method: string, path: string, token?: string) => {
      const response = await fetch(`${api.baseUrl}${path}`, { method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
      return { status: response.status, challenge: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
    };

    it('/profile: any valid token; none is 401 with a Bearer challenge', async () => {
      const { accessToken } = await signIn(t, user);
      expect(await call('GET', '/profile', accessToken)).toMatchObject({ status: 200, body: { user: user.userId, signed_in_with: ['pwd', 'otp', 'mfa'] } });
      expect(await call('GET', '/profile')).toMatchObject({ status: 401, challenge: 'Bearer realm="example-shop"' });
    });

    it('/orders: needs aal2 — an aal1 token gets 401 acr_values="aal2"', async () => {
      const { accessToken } = await signIn(t, user);
      expect((await call('GET', '/orders', accessToken)).status).toBe(200);
      const key = await realKeyOf(t);
      const aal1 = await signWithRealKey(key, { kid: decodeProtectedHeader(accessToken).kid, typ: 'at+jwt' }, { ...decodeJwt(accessToken), acr: 'aal1', amr: ['pwd', 'dev'], jti: `aal1-${name}` });
      const refused = await call('GET', '/orders', aal1);
      expect(refused.status).toBe(401);
      expect(refused.challenge).toMatch(/error="insufficient_user_authentication".*acr_values="aal2"/);
      expect(refused.body).toMatchObject({ code: 'insufficient_authentication' });
    });

    it('SS-09: /account/delete needs a second factor within 5 minutes — refused with max_age=300, allowed after a step-up', async () => {
      const { accessToken } = await signIn(t, user);
      expect((await call('POST', '/account/delete', accessToken)).status).toBe(200);
      t.clock.advanceSeconds(301);
      const stale = await call('POST', '/account/delete', accessToken);
      expect(stale.status).toBe(401);
      expect(stale.challenge).toMatch(/max_age=300/);
      const stepUp = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(accessToken));
      expect(stepUp.statusCode, stepUp.body).toBe(200);
      expect(await call('POST', '/account/delete', stepUp.json().access_token)).toMatchObject({ status: 200, body: { deleted: user.userId } });
    });

    it('SS-05: a logged-out session is refused within a polling interval', async () => {
      const { accessToken } = await signIn(t, user);
      expect((await call('GET', '/profile', accessToken)).status).toBe(200);
      await postJson(t.app, '/v1/logout', {}, bearer(accessToken));
      let status = 200;
      for (let attempt = 0; attempt < 100 && status === 200; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        status = (await call('GET', '/profile', accessToken)).status;
      }
      expect(status).toBe(401);
    });
  });
}

for (const [name, start] of examples) {
  describe(`${name} with DPOP=required`, () => {
    let api: ExampleServer;
    beforeAll(async () => {
      api = await start('required');
    });
    afterAll(async () => api.close());

    it('DP-20, DP-27: twofold/client with dpop: true signs in and calls the example with a bound token and a proof; a bearer token is refused with a DPoP challenge', async () => {
      const client = createTwofoldClient({ baseUrl: t.baseUrl, now: t.clock.now, dpop: true });
      t.clock.advanceSeconds(30);
      const pending = await client.login({ username: user.username, password: user.password });
      await pending.verifyTotpCode(totpCode(t, user.secret));
      const orders = await client.authorizedFetch(`${api.baseUrl}/orders`);
      expect(orders.status).toBe(200);
      expect(await orders.json()).toEqual({ user: user.userId, orders: [] });

      const { accessToken } = await signIn(t, user);
      const refused = await fetch(`${api.baseUrl}/orders`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^DPoP /);
    });
  });
}
