// Twofold as an OpenID Provider, with openid-client as the relying party against a listening
// Twofold: discovery, then an authorization-code + PKCE login driven through the hosted pages over
// real HTTP (password, then the authenticator app), the code exchanged, and the ID token validated
// by openid-client with the claims of what the person did. Then what must be refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { registerPublicOidcClient } from '../../src/oidc/clients.js';
import { signUp, strongPassword, totpCode, uniqueUsername, type SignedUp } from '../helpers/flow.js';
import { totpKeyIn } from '../helpers/page-browser.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://app.example/callback';

describe('Twofold as an OpenID Provider', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let config: client.Configuration;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on' } });
    user = await signUp(t);
    await registerPublicOidcClient(t.ctx.db, { clientId: 'first-app', redirectUris: [redirectUri] });
    config = await discoverAsClient(t, 'first-app');
  });
  afterAll(async () => t.close());

  function authorizationUrl(overrides: Record<string, string> = {}) {
    const verifier = client.randomPKCECodeVerifier();
    return {
      verifier,
      build: async () =>
        client.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri,
          scope: 'openid email',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state: 'state-1',
          ...overrides,
        }),
    };
  }

  /** Through the hosted pages: password, then the authenticator app's code; the redirect back to the app. */
  it('OP-01: discovery is the provider’s (authorization code only, S256 only, iss in responses) with Twofold’s own fields kept, under both names', async () => {
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(t.baseUrl);
    expect(metadata.authorization_endpoint).toBe(`${t.baseUrl}/oidc/auth`);
    expect(metadata.token_endpoint).toBe(`${t.baseUrl}/oidc/token`);
    expect(metadata.userinfo_endpoint).toBe(`${t.baseUrl}/oidc/me`);
    expect(metadata.jwks_uri).toBe(`${t.baseUrl}/.well-known/jwks.json`);
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata['twofold_revoked_sessions_endpoint']).toBe(`${t.baseUrl}/v1/revoked-sessions`);
    expect(metadata['twofold_refresh_endpoint']).toBe(`${t.baseUrl}/v1/token/refresh`);
    expect(metadata['amr_values_supported']).toContain('otp');
    const oauth = await (await fetch(`${t.baseUrl}/.well-known/oauth-authorization-server`)).json();
    expect(oauth).toEqual(metadata);
  });

  it('OP-01, OP-02, OP-03: a full login through the hosted pages gives an ID token with acr aal2, amr otp + mfa and auth_time; the code works once, and its replay revokes the tokens', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const { verifier, build } = authorizationUrl();
    const callback = await browser.signIn(t, user, await build());
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    expect(callback.searchParams.get('iss')).toBe(t.baseUrl);

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-1' });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(user.userId);
    expect(claims['acr']).toBe('aal2');
    expect(claims['amr']).toEqual(expect.arrayContaining(['otp', 'mfa']));
    expect(typeof claims.auth_time).toBe('number');

    // Signed by Twofold's current key, verifiable with the JWKS Twofold already published.
    const idToken = tokens.id_token!;
    expect(decodeProtectedHeader(idToken).kid).toBe((await t.ctx.keys.currentKey()).kid);
    const verified = await jwtVerify(idToken, createRemoteJWKSet(new URL(`${t.baseUrl}/.well-known/jwks.json`)), { issuer: t.baseUrl, audience: 'first-app' });
    expect(verified.payload['acr']).toBe('aal2');

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(userinfo.sub).toBe(user.userId);

    await expect(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-1' })).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(client.fetchUserInfo(config, tokens.access_token, claims.sub)).rejects.toBeDefined();
  });

  it('OP-03: the Twofold session decides: still signed in, the next authorization returns at once; signed out of Twofold, it asks for the sign-in again', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const first = authorizationUrl();
    await browser.signIn(t, user, await first.build());

    const again = authorizationUrl();
    const straightBack = await browser.follow((await again.build()).href);
    const callback = new URL(straightBack.url);
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: again.verifier, expectedState: 'state-1' });
    expect(tokens.claims()!['acr']).toBe('aal2');

    const signedOut = await browser.request('/sign-out', { method: 'POST', form: { csrf: browser.csrf() } });
    expect(signedOut.status).toBe(303);
    expect(browser.cookies.has('__Host-twofold-access')).toBe(false);
    const afterSignOut = await browser.follow((await authorizationUrl().build()).href);
    expect(afterSignOut.url).toMatch(/\/sign-in\?return_to=/);
  });

  it('OP-03: a new person signs up and sets up the authenticator app on the way, then returns to the app with acr aal2', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const { verifier, build } = authorizationUrl();
    expect((await browser.follow((await build()).href)).url).toMatch(/\/sign-in\?return_to=/);
    await browser.request('/sign-up');
    const created = await browser.follow('/sign-up', { method: 'POST', form: { csrf: browser.csrf(), username: uniqueUsername('oidc'), password: strongPassword } });
    expect(new URL(created.url).pathname).toBe('/enroll');
    const setup = await (await browser.request('/enroll/totp')).text();
    const secret = totpKeyIn(setup);
    const factorId = /name="factor_id" value="([^"]+)"/.exec(setup)![1]!;
    const codes = await browser.request('/enroll/confirm', { method: 'POST', form: { csrf: browser.csrf(), factor_id: factorId, code: totpCode(t, secret) } });
    const continueTo = /<a class="button" href="([^"]+)">I saved them/.exec(await codes.text())?.[1];
    expect(continueTo).toMatch(/^\/oidc\/interaction\/[A-Za-z0-9_-]+$/);
    const back = await browser.follow(continueTo!);
    const callback = new URL(back.url);
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-1' });
    expect(tokens.claims()!['acr']).toBe('aal2');
    expect(tokens.claims()!['amr']).toEqual(expect.arrayContaining(['otp', 'mfa']));
  });

  it('OP-03: after a signing-key rotation the next ID token is signed with the new key, without a restart', async () => {
    const rotated = await t.ctx.keys.rotate();
    const browser = new OidcBrowser(t.baseUrl);
    const { verifier, build } = authorizationUrl();
    const callback = await browser.signIn(t, user, await build());
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-1' });
    expect(decodeProtectedHeader(tokens.id_token!).kid).toBe(rotated.kid);
    await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${t.baseUrl}/.well-known/jwks.json`)), { issuer: t.baseUrl, audience: 'first-app' });
  });

  it('OP-01: no PKCE, or plain PKCE, is refused with the RFC error at the redirect URI', async () => {
    for (const params of [{ code_challenge_method: 'plain' }]) {
      const url = await authorizationUrl(params).build();
      const answer = await new OidcBrowser(t.baseUrl).follow(url.href);
      expect(new URL(answer.url).searchParams.get('error')).toBe('invalid_request');
    }
    const url = await authorizationUrl().build();
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const answer = await new OidcBrowser(t.baseUrl).follow(url.href);
    const error = new URL(answer.url);
    expect(error.origin + error.pathname).toBe(redirectUri);
    expect(error.searchParams.get('error')).toBe('invalid_request');
    expect(error.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('OP-01: an unregistered redirect_uri is never redirected to', async () => {
    const url = await authorizationUrl({ redirect_uri: 'https://evil.example/callback' }).build();
    const answer = await new OidcBrowser(t.baseUrl).follow(url.href);
    expect(answer.response.status).toBe(400);
    expect(answer.url.startsWith(t.baseUrl)).toBe(true);
    expect(answer.response.headers.get('location')).toBeNull();
    // The provider's pages are never framed (clickjacking of a sign-in).
    expect(answer.response.headers.get('x-frame-options')).toBe('DENY');
    expect(answer.response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(answer.response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('an interaction without its cookie, or one made up, is a clear 400 problem, never a 500', async () => {
    const response = await fetch(`${t.baseUrl}/oidc/interaction/made-up-uid`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/problem\+json/);
    expect(await response.text()).toContain('expired or was already used');
    // Longer than a route parameter may be: the provider's own 404.
    expect((await fetch(`${t.baseUrl}/oidc/interaction/${'x'.repeat(300)}`)).status).toBe(404);
  });

  it('OP-01: an implicit or hybrid response type is refused', async () => {
    for (const responseType of ['id_token', 'code id_token', 'token']) {
      const url = await authorizationUrl({ response_type: responseType, nonce: 'n-1' }).build();
      const answer = await new OidcBrowser(t.baseUrl).follow(url.href);
      // An error for a response type with tokens in it is sent in the fragment, as that type would have
      // been: the fragment itself is refused first (a client answers by query or form_post only).
      const callback = new URL(answer.url);
      expect(callback.origin + callback.pathname).toBe(redirectUri);
      expect(['invalid_request', 'unsupported_response_type']).toContain(new URLSearchParams(callback.hash.slice(1)).get('error'));
      expect(callback.hash).not.toMatch(/id_token=|access_token=|code=/);
    }
  });
});

describe('Twofold with the OpenID Provider off (the default)', () => {
  let t: ListeningTwofold;
  beforeAll(async () => {
    t = await startListeningTwofold();
  });
  afterAll(async () => t.close());

  it('OP-01: the provider’s paths are 404 and discovery is Twofold’s own document', async () => {
    for (const path of ['/oidc/auth', '/oidc/token', '/oidc/me', '/oidc/interaction/abc', '/.well-known/oauth-authorization-server']) {
      expect((await fetch(`${t.baseUrl}${path}`)).status, path).toBe(404);
    }
    const metadata = (await (await fetch(`${t.baseUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata.authorization_endpoint).toBeUndefined();
    expect(metadata.token_endpoint).toBe(`${t.baseUrl}/v1/token/refresh`);
    expect(metadata.response_types_supported).toEqual([]);
  });
});
