// Refresh tokens of the OpenID Provider, with openid-client as the relying party against a
// listening Twofold: offline_access for a client registered with the refresh_token grant; a public
// client's refresh token rotated on every use, a replay revoking the grant (and of many concurrent
// uses exactly one winning); a confidential client's bound to its secret; a refresh never raising
// acr, amr or auth_time, and refused once the Twofold session behind it has ended.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { registerConfidentialOidcClient, registerPublicOidcClient } from '../../src/oidc/clients.js';
import { signUp, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { authorizationCallback, oidcLogin } from '../helpers/oidc-login.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://app.example/callback';
const offline = { redirectUri, scope: 'openid offline_access' };

describe('refresh tokens of the OpenID Provider', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let browser: OidcBrowser;
  let config: client.Configuration;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on' } });
    user = await signUp(t);
    browser = new OidcBrowser(t.baseUrl);
    await registerPublicOidcClient(t.ctx.db, { clientId: 'mobile', redirectUris: [redirectUri], refreshTokens: true });
    config = await discoverAsClient(t, 'mobile');
  });
  afterAll(async () => t.close());

  /** A refresh at the token endpoint as raw HTTP, for the answers openid-client would throw on. */
  async function refresh(refreshToken: string, clientId: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, ...(headers['authorization'] === undefined ? { client_id: clientId } : {}) }).toString(),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('OP-06: offline_access gives a refresh token; a refresh gives a new ID token with the same acr, amr and auth_time, and a rotated refresh token', async () => {
    const first = await oidcLogin(t, browser, user, config, offline);
    expect(first.refresh_token).toEqual(expect.any(String));
    const original = first.claims()!;
    expect(original['acr']).toBe('aal2');

    // Later, after the person has done nothing more: the refresh says what the login said.
    t.clock.advanceSeconds(120);
    const refreshed = await client.refreshTokenGrant(config, first.refresh_token!);
    const claims = refreshed.claims()!;
    expect(claims.sub).toBe(user.userId);
    expect(claims['acr']).toBe(original['acr']);
    expect(claims['amr']).toEqual(original['amr']);
    expect(claims.auth_time).toBe(original.auth_time);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(first.refresh_token);
    // The new access token works at userinfo.
    const info = await client.fetchUserInfo(config, refreshed.access_token, user.userId);
    expect(info.sub).toBe(user.userId);
  });

  it('OP-06: a replayed rotated refresh token is refused with invalid_grant and revokes the grant: the newer refresh and access tokens stop too', async () => {
    const first = await oidcLogin(t, browser, user, config, offline);
    const rotated = await client.refreshTokenGrant(config, first.refresh_token!);

    const replay = await refresh(first.refresh_token!, 'mobile');
    expect(replay.status).toBe(400);
    expect(replay.body['error']).toBe('invalid_grant');

    const newer = await refresh(rotated.refresh_token!, 'mobile');
    expect(newer.status).toBe(400);
    expect(newer.body['error']).toBe('invalid_grant');
    const userinfo = await fetch(`${t.baseUrl}/oidc/me`, { headers: { authorization: `Bearer ${rotated.access_token}` } });
    expect(userinfo.status).toBe(401);
    expect(userinfo.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('OP-06: of 50 concurrent uses of one refresh token exactly one rotation wins; the others are replays (invalid_grant, never a 500)', async () => {
    const first = await oidcLogin(t, browser, user, config, offline);
    const answers = await Promise.all(Array.from({ length: 50 }, () => refresh(first.refresh_token!, 'mobile')));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 400)).toHaveLength(49);
    expect(answers.filter((answer) => answer.status === 400).every((answer) => answer.body['error'] === 'invalid_grant')).toBe(true);
  });

  it('OP-02, OP-06: of 20 concurrent redemptions of one code exactly one wins (the same conditional consume as a refresh token)', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const callback = await authorizationCallback(t, browser, user, config, { ...offline, verifier });
    const redeem = async () => {
      const response = await fetch(`${t.baseUrl}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'mobile', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier }).toString(),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const answers = await Promise.all(Array.from({ length: 20 }, redeem));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 400 && answer.body['error'] === 'invalid_grant')).toHaveLength(19);
  });

  it('OP-06: a refresh token presented by another client is refused with invalid_grant, and still works for its own client', async () => {
    await registerPublicOidcClient(t.ctx.db, { clientId: 'other-mobile', redirectUris: [redirectUri], refreshTokens: true });
    const first = await oidcLogin(t, browser, user, config, offline);
    const stolen = await refresh(first.refresh_token!, 'other-mobile');
    expect(stolen.status).toBe(400);
    expect(stolen.body['error']).toBe('invalid_grant');
    expect((await client.refreshTokenGrant(config, first.refresh_token!)).access_token).toEqual(expect.any(String));
  });

  it('OP-06: a refresh cannot widen the grant: a scope the login was not given is invalid_scope', async () => {
    const first = await oidcLogin(t, browser, user, config, offline);
    const response = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: 'mobile', scope: 'openid offline_access email' }).toString(),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Record<string, unknown>)['error']).toBe('invalid_scope');
  });

  it('OP-06: a client registered without the refresh_token grant gets no refresh token, and cannot use the grant', async () => {
    await registerPublicOidcClient(t.ctx.db, { clientId: 'web-only', redirectUris: [redirectUri] });
    const webConfig = await discoverAsClient(t, 'web-only');
    const tokens = await oidcLogin(t, browser, user, webConfig, offline);
    expect(tokens.refresh_token).toBeUndefined();
    const refused = await refresh('made-up-refresh-token', 'web-only');
    // RFC 6749 5.2: a grant the client is not registered for.
    expect(refused.status).toBe(400);
    expect(refused.body['error']).toBe('unauthorized_client');
  });

  it('OP-06: a confidential client’s refresh token is bound to its secret: not rotated, refused without the secret (invalid_client)', async () => {
    const secret = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'server-app', redirectUris: [redirectUri], refreshTokens: true });
    const serverConfig = await discoverAsClient(t, 'server-app', client.ClientSecretBasic(secret));
    const first = await oidcLogin(t, browser, user, serverConfig, offline);
    const refreshed = await client.refreshTokenGrant(serverConfig, first.refresh_token!);
    expect(refreshed.refresh_token).toBe(first.refresh_token);
    expect((await client.refreshTokenGrant(serverConfig, first.refresh_token!)).claims()!.auth_time).toBe(first.claims()!.auth_time);

    const withoutSecret = await refresh(first.refresh_token!, 'server-app');
    expect(withoutSecret.status).toBe(401);
    expect(withoutSecret.body['error']).toBe('invalid_client');
    const wrongSecret = await refresh(first.refresh_token!, 'server-app', { authorization: `Basic ${Buffer.from(`server-app:${secret.slice(1)}x`).toString('base64')}` });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body['error']).toBe('invalid_client');
  });

  it('OP-06: once the Twofold session behind the login has ended (signed out), a refresh is refused with invalid_grant', async () => {
    const ownBrowser = new OidcBrowser(t.baseUrl);
    const first = await oidcLogin(t, ownBrowser, user, config, offline);
    expect((await client.refreshTokenGrant(config, first.refresh_token!)).refresh_token).toEqual(expect.any(String));
    const second = await oidcLogin(t, ownBrowser, user, config, offline);
    const signedOut = await ownBrowser.request('/sign-out', { method: 'POST', form: { csrf: ownBrowser.csrf() } });
    expect(signedOut.status).toBe(303);
    const refused = await refresh(second.refresh_token!, 'mobile');
    expect(refused.status).toBe(400);
    expect(refused.body['error']).toBe('invalid_grant');
  });
});
