// The OpenID Connect examples in examples/, imported as a user's program would run them, against a
// real Twofold over real HTTP: the web app's "Sign in with Twofold" (code + PKCE, state, nonce,
// a session cookie, logout through Twofold's end_session endpoint) and the protected API
// (twofold/verify's requireAuth on plain node:http). The whole story: the web app asks for the
// API as an RFC 8707 resource, gets an RFC 9068 JWT access token for it from the provider, and the
// API — its audience that resource — accepts it and refuses a token for any other audience. The
// same API code set to Twofold's own audience takes Twofold's JSON-API access tokens.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../helpers/clock.js';
import { registerConfidentialOidcClient, registerPublicOidcClient } from '../../src/oidc/clients.js';
import { signIn, signUp, type SignedUp } from '../helpers/flow.js';
import { realKeyOf, signWithRealKey } from '../helpers/jwt-forgery.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { oidcLogin } from '../helpers/oidc-login.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';
import { findFreePort } from '../helpers/process.js';

const importExample = (name: string): Promise<unknown> => import(new URL(`../../examples/${name}/server.mjs`, import.meta.url).href);

type CreateApi = (options: unknown) => Server;

let t: ListeningTwofold;
let user: SignedUp;
/** The protected API as a resource server of the provider: its URI is its tokens' audience. */
let resourceApi: Server;
let resource: string;
let resourceApiUrl: string;

/** Starts an example API on a port (0: any) of 127.0.0.1; resolves with its address. */
async function listen(server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  const apiPort = await findFreePort();
  resource = `http://localhost:${apiPort}`;
  // The provider stamps its tokens with the wall clock: Twofold's test clock starts there too, 10 s into a TOTP step.
  const stepStart = Math.floor(Date.now() / 30_000) * 30_000 + 10_000;
  t = await startListeningTwofold({ clock: createTestClock(stepStart), env: { TWOFOLD_OIDC: 'on', TWOFOLD_OIDC_RESOURCES: `${resource} orders:read` } });
  user = await signUp(t);
  const { createApi } = (await importExample('oidc-protected-api')) as { createApi: CreateApi };
  resourceApi = createApi({ issuer: t.baseUrl, audience: resource, verifier: { now: t.clock.now, revocations: { intervalMs: 50 } } });
  resourceApiUrl = await listen(resourceApi, apiPort);
});
afterAll(async () => {
  await new Promise<void>((resolve) => resourceApi.close(() => resolve()));
  await t.close();
});

/** The cookies a response sets, as name → value (a cleared cookie maps to ''). */
function cookiesSetBy(response: Response): Map<string, string> {
  return new Map(response.headers.getSetCookie().map((header) => header.split(';')[0]!.split('=') as [string, string]));
}

describe('examples/oidc-web-app', () => {
  let app: FastifyInstance;
  let appUrl: string;

  beforeAll(async () => {
    const port = await findFreePort();
    appUrl = `http://localhost:${port}`;
    const clientSecret = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'web-app', redirectUris: [`${appUrl}/callback`], postLogoutRedirectUris: [`${appUrl}/`] });
    const { createApp } = (await importExample('oidc-web-app')) as { createApp(options: unknown): Promise<FastifyInstance> };
    app = await createApp({ issuer: t.baseUrl, clientId: 'web-app', clientSecret, baseUrl: appUrl, api: { resource, scope: 'orders:read', url: resourceApiUrl } });
    await app.listen({ port, host: '127.0.0.1' });
  });
  afterAll(async () => app.close());

  it('OP-18: "Sign in with Twofold": code + PKCE S256 with state and nonce, the hosted sign-in, then a session showing the Twofold user and acr aal2 whose /api page shows the API accepting the provider’s access token for it (RFC 8707 resource); logout goes through end_session', async () => {
    const home = await fetch(`${appUrl}/`);
    expect(await home.text()).toContain('Sign in with Twofold');

    const login = await fetch(`${appUrl}/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const authorizationUrl = new URL(login.headers.get('location')!);
    expect(authorizationUrl.href.startsWith(`${t.baseUrl}/oidc/auth?`)).toBe(true);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl.searchParams.get('state')).toBeTruthy();
    expect(authorizationUrl.searchParams.get('nonce')).toBeTruthy();
    expect(authorizationUrl.searchParams.get('resource')).toBe(resource);
    expect(authorizationUrl.searchParams.get('scope')).toBe('openid email orders:read');
    const pending = cookiesSetBy(login).get('web_app_sign_in')!;
    expect(login.headers.getSetCookie()[0]).toMatch(/HttpOnly/i);

    const callback = await new OidcBrowser(t.baseUrl).signIn(t, user, authorizationUrl);
    expect(callback.href.startsWith(`${appUrl}/callback?`)).toBe(true);
    const back = await fetch(callback, { headers: { cookie: `web_app_sign_in=${pending}` }, redirect: 'manual' });
    expect(back.status).toBe(303);
    const session = cookiesSetBy(back).get('web_app_session')!;
    expect(session).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const signedIn = await (await fetch(`${appUrl}/`, { headers: { cookie: `web_app_session=${session}` } })).text();
    expect(signedIn).toContain(`<strong data-sub>${user.userId}</strong>`);
    expect(signedIn).toContain('<span data-acr>aal2</span>');

    // The app calls the API with the access token the provider gave it for that resource; the API's
    // twofold/verify accepts it (audience the resource) and sees the person and the second factor.
    const apiPage = await fetch(`${appUrl}/api`, { headers: { cookie: `web_app_session=${session}` } });
    expect(apiPage.status).toBe(200);
    const answers = await apiPage.text();
    expect(answers).toContain('<span data-status="/me">200</span>');
    expect(answers).toContain(`<pre data-answer="/me">{&#34;user&#34;:&#34;${user.userId}&#34;,&#34;acr&#34;:&#34;aal2&#34;`);
    expect(answers).toContain('<span data-status="/admin">200</span>');
    expect(answers).toContain(`<pre data-answer="/admin">{&#34;user&#34;:&#34;${user.userId}&#34;,&#34;admin&#34;:true}</pre>`);

    // The callback works once: replayed, the sign-in it started is gone.
    expect((await fetch(callback, { headers: { cookie: `web_app_sign_in=${pending}` }, redirect: 'manual' })).status).toBe(400);

    const logout = await fetch(`${appUrl}/logout`, { method: 'POST', headers: { cookie: `web_app_session=${session}` }, redirect: 'manual' });
    expect(logout.status).toBe(303);
    const endSession = new URL(logout.headers.get('location')!);
    expect(endSession.origin + endSession.pathname).toBe(`${t.baseUrl}/oidc/session/end`);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${appUrl}/`);
    expect(decodeJwt(endSession.searchParams.get('id_token_hint')!).sub).toBe(user.userId);
    expect(await (await fetch(`${appUrl}/`, { headers: { cookie: `web_app_session=${session}` } })).text()).toContain('Sign in with Twofold');
  });

  it('OP-18: the API page needs a session: without one it sends the browser home', async () => {
    const page = await fetch(`${appUrl}/api`, { headers: { cookie: 'web_app_session=made-up' }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/');
  });

  it('OP-18: a callback whose state is not the one the app sent is refused (400), and no session is made', async () => {
    const login = await fetch(`${appUrl}/login`, { redirect: 'manual' });
    const pending = cookiesSetBy(login).get('web_app_sign_in')!;
    const forged = await fetch(`${appUrl}/callback?code=made-up&state=not-the-one&iss=${encodeURIComponent(t.baseUrl)}`, { headers: { cookie: `web_app_sign_in=${pending}` }, redirect: 'manual' });
    expect(forged.status).toBe(400);
    expect(cookiesSetBy(forged).get('web_app_session')).toBeUndefined();
  });
});

/** One request to an example API; its status, Bearer challenge and JSON body. */
async function callAt(baseUrl: string, path: string, token?: string) {
  const response = await fetch(`${baseUrl}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, challenge: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
}

describe('examples/oidc-protected-api as a resource server of the provider', () => {
  it('OP-18: a token for another audience is refused with 401 invalid_token: Twofold’s own access token, and a provider token asked for without the resource', async () => {
    const { accessToken } = await signIn(t, user);
    for (const path of ['/me', '/admin']) {
      const refused = await callAt(resourceApiUrl, path, accessToken);
      expect(refused.status).toBe(401);
      expect(refused.challenge).toMatch(/^Bearer .*error="invalid_token"/);
    }

    // The same person through the provider, but no resource asked for: an opaque token, for userinfo only.
    await registerPublicOidcClient(t.ctx.db, { clientId: 'spa', redirectUris: ['https://spa.example/callback'] });
    const tokens = await oidcLogin(t, new OidcBrowser(t.baseUrl), user, await discoverAsClient(t, 'spa'), { redirectUri: 'https://spa.example/callback', scope: 'openid' });
    const withoutResource = await callAt(resourceApiUrl, '/me', tokens.access_token);
    expect(withoutResource.status).toBe(401);
    expect(withoutResource.challenge).toMatch(/^Bearer .*error="invalid_token"/);
  });
});

describe('examples/oidc-protected-api with Twofold’s own audience', () => {
  let api: Server;
  let apiUrl: string;

  beforeAll(async () => {
    const { createApi } = (await importExample('oidc-protected-api')) as { createApi: CreateApi };
    api = createApi({ issuer: t.baseUrl, audience: t.config.audience, verifier: { now: t.clock.now, revocations: { intervalMs: 50 } } });
    apiUrl = await listen(api);
  });
  afterAll(async () => new Promise<void>((resolve) => api.close(() => resolve())));

  const call = async (path: string, token?: string) => callAt(apiUrl, path, token);

  it('OP-18: /me answers for a Twofold access token; no token is 401 with a Bearer challenge', async () => {
    const { accessToken } = await signIn(t, user);
    expect(await call('/me', accessToken)).toMatchObject({ status: 200, body: { user: user.userId, acr: 'aal2' } });
    const refused = await call('/me');
    expect(refused.status).toBe(401);
    expect(refused.challenge).toMatch(/^Bearer/);
  });

  it('OP-18: /admin needs aal2: an aal1 token gets 401 with acr_values="aal2"', async () => {
    const { accessToken } = await signIn(t, user);
    expect(await call('/admin', accessToken)).toMatchObject({ status: 200, body: { user: user.userId, admin: true } });
    const key = await realKeyOf(t);
    const aal1 = await signWithRealKey(key, { kid: decodeProtectedHeader(accessToken).kid, typ: 'at+jwt' }, { ...decodeJwt(accessToken), acr: 'aal1', amr: ['pwd', 'dev'], jti: 'oidc-api-aal1' });
    const refused = await call('/admin', aal1);
    expect(refused.status).toBe(401);
    expect(refused.challenge).toMatch(/error="insufficient_user_authentication".*acr_values="aal2"/);
    expect((await call('/nowhere', accessToken)).status).toBe(404);
  });
});
