// Introspection (RFC 7662) and revocation (RFC 7009) at the OpenID Provider, with openid-client
// against a listening Twofold: an authenticated confidential or service client (a resource
// server) learns whether a token is active and whose it is; a public client learns nothing. A
// client revokes its own tokens — a revoked refresh token ends, a revoked access token stops at
// userinfo — and never another client's. Revoked, expired, unknown tokens, and tokens of an ended
// Twofold session, are `active: false`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { registerConfidentialOidcClient, registerPublicOidcClient, registerServiceOidcClient } from '../../src/oidc/clients.js';
import { signUp, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { oidcLogin } from '../helpers/oidc-login.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://server.example/callback';
const ordersApi = 'https://orders.example/';

describe('introspection and revocation at the OpenID Provider', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let browser: OidcBrowser;
  let app: client.Configuration;
  let appSecret: string;
  let gateway: client.Configuration;
  let gatewaySecret: string;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on', TWOFOLD_OIDC_RESOURCES: `${ordersApi} orders:read` } });
    user = await signUp(t);
    browser = new OidcBrowser(t.baseUrl);
    appSecret = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'server-app', redirectUris: [redirectUri], refreshTokens: true });
    app = await discoverAsClient(t, 'server-app', client.ClientSecretBasic(appSecret));
    // The resource server: a service client that introspects the tokens it is shown.
    gatewaySecret = await registerServiceOidcClient(t.ctx.db, t.ctx.secretBox, 'orders-gateway');
    gateway = await discoverAsClient(t, 'orders-gateway', client.ClientSecretBasic(gatewaySecret));
  });
  afterAll(async () => t.close());

  const basic = (clientId: string, secret: string) => `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;

  async function post(path: string, form: Record<string, string>, authorization?: string): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
    const response = await fetch(`${t.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization === undefined ? {} : { authorization }) },
      body: new URLSearchParams(form).toString(),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
  }

  function login(scope = 'openid offline_access') {
    return oidcLogin(t, browser, user, app, { redirectUri, scope });
  }

  it('OP-09: discovery lists the introspection and revocation endpoints', () => {
    const metadata = app.serverMetadata();
    expect(metadata.introspection_endpoint).toBe(`${t.baseUrl}/oidc/token/introspection`);
    expect(metadata.revocation_endpoint).toBe(`${t.baseUrl}/oidc/token/revocation`);
  });

  it('OP-09: a resource server (service client) introspects a person’s access and refresh tokens: active, whose, and how they signed in', async () => {
    const tokens = await login();
    const access = await client.tokenIntrospection(gateway, tokens.access_token);
    expect(access.active).toBe(true);
    expect(access.sub).toBe(user.userId);
    expect(access.client_id).toBe('server-app');
    expect(access['acr']).toBe(tokens.claims()!['acr']);
    expect(access['amr']).toEqual(tokens.claims()!['amr']);
    expect(access['auth_time']).toBe(tokens.claims()!.auth_time);
    expect(access.token_type).toBe('Bearer');

    const refresh = await client.tokenIntrospection(gateway, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    expect(refresh.active).toBe(true);
    expect(refresh.sub).toBe(user.userId);

  });

  it('OP-09: a JWT access token for a resource is self-contained: introspecting or revoking it is the RFC 7009 unsupported_token_type, never a 500', async () => {
    const tokens = await oidcLogin(t, browser, user, app, { redirectUri, scope: 'openid orders:read', resource: ordersApi, tokenResource: ordersApi });
    expect(tokens.access_token.split('.')).toHaveLength(3);
    for (const path of ['/oidc/token/introspection', '/oidc/token/revocation']) {
      const answer = await post(path, { token: tokens.access_token }, basic('server-app', appSecret));
      expect(answer.status, path).toBe(400);
      expect(answer.body?.['error'], path).toBe('unsupported_token_type');
    }
  });

  it('OP-09: a service client’s own opaque token (no resource) introspects as active, no person behind it; revoked, inactive', async () => {
    const tokens = await client.clientCredentialsGrant(gateway);
    const answer = await client.tokenIntrospection(gateway, tokens.access_token);
    expect(answer.active).toBe(true);
    expect(answer.client_id).toBe('orders-gateway');
    expect(answer['acr']).toBeUndefined();
    await client.tokenRevocation(gateway, tokens.access_token);
    expect((await client.tokenIntrospection(gateway, tokens.access_token)).active).toBe(false);
  });

  it('OP-09: unknown, expired and made-up tokens are active: false', async () => {
    expect((await client.tokenIntrospection(gateway, 'made-up-token')).active).toBe(false);
    const tokens = await login('openid');
    // Expired in storage: the adapter never reads a row past its expiry.
    await t.ctx.db.updateTable('oidc_payloads').set({ expires_at: t.clock.now() - 1000 }).where('kind', '=', 'AccessToken').where('id', '=', tokens.access_token).execute();
    expect((await client.tokenIntrospection(gateway, tokens.access_token)).active).toBe(false);
  });

  it('OP-09: a public client learns nothing, not even of its own live token; no client authentication is invalid_request, a wrong secret invalid_client', async () => {
    await registerPublicOidcClient(t.ctx.db, { clientId: 'public-spa', redirectUris: [redirectUri] });
    const spa = await discoverAsClient(t, 'public-spa');
    const own = await oidcLogin(t, browser, user, spa, { redirectUri, scope: 'openid' });
    expect((await client.tokenIntrospection(spa, own.access_token)).active).toBe(false);
    expect((await client.tokenIntrospection(gateway, own.access_token)).active).toBe(true);

    const anonymous = await post('/oidc/token/introspection', { token: own.access_token });
    expect(anonymous.status).toBe(400);
    expect(anonymous.body?.['error']).toBe('invalid_request');
    const wrongSecret = await post('/oidc/token/introspection', { token: own.access_token }, basic('orders-gateway', `${gatewaySecret.slice(1)}x`));
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body?.['error']).toBe('invalid_client');
  });

  it('OP-09: revoking a refresh token ends it: introspection says active: false and a refresh is invalid_grant', async () => {
    const tokens = await login();
    await client.tokenRevocation(app, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    expect((await client.tokenIntrospection(gateway, tokens.refresh_token!)).active).toBe(false);
    const refused = await post('/oidc/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, basic('server-app', appSecret));
    expect(refused.status).toBe(400);
    expect(refused.body?.['error']).toBe('invalid_grant');
  });

  it('OP-09: revoking an access token stops it at userinfo and at introspection', async () => {
    const tokens = await login('openid');
    expect((await client.fetchUserInfo(app, tokens.access_token, user.userId)).sub).toBe(user.userId);
    await client.tokenRevocation(app, tokens.access_token);
    expect((await client.tokenIntrospection(gateway, tokens.access_token)).active).toBe(false);
    const userinfo = await fetch(`${t.baseUrl}/oidc/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(userinfo.status).toBe(401);
  });

  it('OP-09: another client cannot revoke a token it was not issued (invalid_request), and the token stays active', async () => {
    const tokens = await login();
    const refused = await post('/oidc/token/revocation', { token: tokens.refresh_token! }, basic('orders-gateway', gatewaySecret));
    expect(refused.status).toBe(400);
    expect(refused.body?.['error']).toBe('invalid_request');
    expect((await client.tokenIntrospection(gateway, tokens.refresh_token!)).active).toBe(true);
    // Revoking a token that does not exist is the RFC's empty success.
    const unknown = await post('/oidc/token/revocation', { token: 'made-up-token' }, basic('server-app', appSecret));
    expect(unknown.status).toBe(200);
  });

  it('OP-09: once the Twofold session behind a token is signed out, introspection says active: false', async () => {
    const ownBrowser = new OidcBrowser(t.baseUrl);
    const tokens = await oidcLogin(t, ownBrowser, user, app, { redirectUri, scope: 'openid offline_access' });
    expect((await client.tokenIntrospection(gateway, tokens.access_token)).active).toBe(true);
    expect((await client.tokenIntrospection(gateway, tokens.refresh_token!)).active).toBe(true);
    const signedOut = await ownBrowser.request('/sign-out', { method: 'POST', form: { csrf: ownBrowser.csrf() } });
    expect(signedOut.status).toBe(303);
    expect((await client.tokenIntrospection(gateway, tokens.access_token)).active).toBe(false);
    expect((await client.tokenIntrospection(gateway, tokens.refresh_token!)).active).toBe(false);
  });
});
