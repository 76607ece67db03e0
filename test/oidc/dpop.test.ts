// DPoP (RFC 9449) at the OpenID Provider, with openid-client's own DPoP support as the relying
// party against a listening Twofold: a code exchanged with a proof gives a DPoP token (cnf.jkt the
// key's thumbprint in a resource's JWT access token), a public client's refresh token is bound to
// that key, userinfo wants the DPoP scheme and a proof; a client registered with
// dpop_bound_access_tokens (or every client under TWOFOLD_DPOP=required) is refused without one;
// with TWOFOLD_DPOP_NONCE=required the provider asks for its nonce and openid-client retries; with
// TWOFOLD_DPOP=off there is no DPoP at all. The attacks are in test/security/oidc-dpop-attacks.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose';
import * as client from 'openid-client';
import { registerConfidentialOidcClient, registerPublicOidcClient } from '../../src/oidc/clients.js';
import { createDpopTestKey, makeDpopProof } from '../helpers/dpop-proofs.js';
import { registerUser, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { authorizationCallback, type OidcLoginOptions } from '../helpers/oidc-login.js';
import { discoverAsClient, startOidcTestbed } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://dpop-app.example/callback';
const ordersApi = 'https://orders.example/api';
const offline = { redirectUri, scope: 'openid offline_access' };

type Tokens = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

async function thumbprintOf(keyPair: client.CryptoKeyPair): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
}

/** A login through the hosted pages, its code exchanged by openid-client with `dpop` (or without a proof). */
async function loginWith(t: ListeningTwofold, browser: OidcBrowser, user: SignedUp, config: client.Configuration, options: OidcLoginOptions, dpop?: client.DPoPHandle): Promise<Tokens> {
  const verifier = client.randomPKCECodeVerifier();
  const callback = await authorizationCallback(t, browser, user, config, { ...options, verifier });
  const resource = options.tokenResource === undefined ? undefined : { resource: options.tokenResource };
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-t' }, resource, dpop === undefined ? undefined : { DPoP: dpop });
}

async function discovery(t: ListeningTwofold): Promise<Array<Record<string, unknown>>> {
  return Promise.all(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'].map(async (path) => (await (await fetch(`${t.baseUrl}${path}`)).json()) as Record<string, unknown>));
}

async function userinfo(t: ListeningTwofold, headers: Record<string, string>): Promise<{ status: number; authenticate: string | null }> {
  const response = await fetch(`${t.baseUrl}/oidc/me`, { headers });
  await response.arrayBuffer();
  return { status: response.status, authenticate: response.headers.get('www-authenticate') };
}

describe('DPoP at the OpenID Provider (TWOFOLD_DPOP=allowed, the default)', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let browser: OidcBrowser;
  let config: client.Configuration;
  let strictConfig: client.Configuration;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on', TWOFOLD_OIDC_RESOURCES: `${ordersApi} orders:read` } });
    user = await signUp(t);
    browser = new OidcBrowser(t.baseUrl);
    await registerPublicOidcClient(t.ctx.db, { clientId: 'dpop-app', redirectUris: [redirectUri], refreshTokens: true });
    await registerPublicOidcClient(t.ctx.db, { clientId: 'dpop-strict', redirectUris: [redirectUri], refreshTokens: true, options: { dpop: true } });
    config = await discoverAsClient(t, 'dpop-app');
    strictConfig = await discoverAsClient(t, 'dpop-strict');
  });
  afterAll(async () => t.close());

  it('DP-34: both discovery documents publish dpop_signing_alg_values_supported (ES256, EdDSA)', async () => {
    for (const document of await discovery(t)) expect(document['dpop_signing_alg_values_supported']).toEqual(['ES256', 'EdDSA']);
  });

  it('DP-34: a code exchanged with a proof gives token_type DPoP; the resource’s JWT access token carries cnf.jkt = the key’s thumbprint', async () => {
    const keyPair = await client.randomDPoPKeyPair();
    const tokens = await loginWith(t, browser, user, config, { redirectUri, scope: 'openid orders:read', resource: ordersApi, tokenResource: ordersApi }, client.getDPoPHandle(config, keyPair));
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    const claims = decodeJwt(tokens.access_token);
    expect(claims.aud).toBe(ordersApi);
    expect(claims['cnf']).toEqual({ jkt: await thumbprintOf(keyPair) });
  });

  it('DP-34: without a proof the same client gets a Bearer token with no cnf (DPoP is allowed, not required)', async () => {
    const tokens = await loginWith(t, browser, user, config, { redirectUri, scope: 'openid orders:read', resource: ordersApi, tokenResource: ordersApi });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(decodeJwt(tokens.access_token)['cnf']).toBeUndefined();
  });

  it('DP-35: a public client’s bound refresh token works with the same key (new tokens bound to it) and is refused with another key or none (invalid_dpop_proof), without being spent', async () => {
    const keyPair = await client.randomDPoPKeyPair();
    const dpop = client.getDPoPHandle(config, keyPair);
    const first = await loginWith(t, browser, user, config, offline, dpop);
    expect(first.refresh_token).toEqual(expect.any(String));

    const otherKey = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    await expect(client.refreshTokenGrant(config, first.refresh_token!, undefined, { DPoP: otherKey })).rejects.toMatchObject({ error: 'invalid_dpop_proof', error_description: 'failed jkt verification' });
    await expect(client.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_dpop_proof' });

    // Still good with its own key: the refusals above spent nothing.
    const refreshed = await client.refreshTokenGrant(config, first.refresh_token!, undefined, { DPoP: dpop });
    expect(refreshed.token_type.toLowerCase()).toBe('dpop');
    expect(refreshed.refresh_token).not.toBe(first.refresh_token);
    const info = await client.fetchUserInfo(config, refreshed.access_token, user.userId, { DPoP: dpop });
    expect(info.sub).toBe(user.userId);
    // The refreshed access token is bound to the same key: another key's proof is refused.
    await expect(client.fetchUserInfo(config, refreshed.access_token, user.userId, { DPoP: otherKey })).rejects.toBeInstanceOf(Error);
  });

  it('DP-36: userinfo with a bound token answers with the DPoP scheme and a proof; as Bearer or with another key’s proof it is 401 invalid_token, without a proof 400 invalid_request', async () => {
    const keyPair = await client.randomDPoPKeyPair();
    const dpop = client.getDPoPHandle(config, keyPair);
    const tokens = await loginWith(t, browser, user, config, { redirectUri, scope: 'openid email' }, dpop);
    const info = await client.fetchUserInfo(config, tokens.access_token, user.userId, { DPoP: dpop });
    expect(info.sub).toBe(user.userId);

    const asBearer = await userinfo(t, { authorization: `Bearer ${tokens.access_token}` });
    expect(asBearer.status).toBe(401);
    expect(asBearer.authenticate).toMatch(/invalid_token/);
    // The DPoP scheme without its proof is a malformed request to the provider (RFC 6750 3.1): 400 invalid_request.
    const noProof = await userinfo(t, { authorization: `DPoP ${tokens.access_token}` });
    expect(noProof.status).toBe(400);
    expect(noProof.authenticate).toMatch(/^DPoP .*error="invalid_request".*algs="ES256 EdDSA"/);
    const otherKey = await createDpopTestKey('ES256');
    const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(tokens.access_token))).toString('base64url');
    const wrongKeyProof = await makeDpopProof({ key: otherKey, htm: 'GET', htu: `${t.baseUrl}/oidc/me`, iat: Math.floor(Date.now() / 1000), claims: { ath } });
    const wrongKey = await userinfo(t, { authorization: `DPoP ${tokens.access_token}`, dpop: wrongKeyProof });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.authenticate).toMatch(/invalid_token/);
  });

  it('DP-34: introspection (RFC 7662, for a confidential resource server) reports a bound opaque token’s cnf.jkt', async () => {
    const secret = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'resource-server', redirectUris: ['https://rs.example/cb'] });
    const keyPair = await client.randomDPoPKeyPair();
    const tokens = await loginWith(t, browser, user, config, { redirectUri, scope: 'openid' }, client.getDPoPHandle(config, keyPair));
    const response = await fetch(`${t.baseUrl}/oidc/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`resource-server:${secret}`).toString('base64')}` },
      body: new URLSearchParams({ token: tokens.access_token }).toString(),
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ active: true, cnf: { jkt: await thumbprintOf(keyPair) } });
  });

  it('DP-37: a client registered with dpop_bound_access_tokens is refused a token without a proof (invalid_dpop_proof), and its code is not spent by the refusal', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const callback = await authorizationCallback(t, browser, user, strictConfig, { ...offline, verifier });
    const checks = { pkceCodeVerifier: verifier, expectedState: 'state-t' };
    await expect(client.authorizationCodeGrant(strictConfig, callback, checks)).rejects.toMatchObject({ error: 'invalid_dpop_proof', error_description: 'DPoP proof JWT not provided' });
    const keyPair = await client.randomDPoPKeyPair();
    const tokens = await client.authorizationCodeGrant(strictConfig, callback, checks, undefined, { DPoP: client.getDPoPHandle(strictConfig, keyPair) });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
  });
});

/**
 * Sign-up where TWOFOLD_DPOP=required and nonces are required: the factor's confirmation (a token
 * request) carries a proof — first without a nonce, which the server answers with one, then with it.
 */
async function signUpWithProof(t: ListeningTwofold): Promise<SignedUp> {
  const registered = await registerUser(t);
  const key = await createDpopTestKey('ES256');
  const path = `/v1/factors/${registered.factorId}/verify`;
  const confirm = async (nonce?: string) =>
    t.app.inject({
      method: 'POST',
      url: path,
      headers: {
        authorization: `Bearer ${registered.mfaToken}`,
        'content-type': 'application/json',
        dpop: await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}${path}`, iat: Math.floor(t.clock.now() / 1000), ...(nonce === undefined ? {} : { claims: { nonce } }) }),
      },
      payload: JSON.stringify({ code: totpCode(t, registered.secret) }),
    });
  const first = await confirm();
  expect(first.json().code).toBe('use_dpop_nonce');
  const response = await confirm(String(first.headers['dpop-nonce']));
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json();
  return { ...registered, accessToken: body.access_token, refreshToken: body.refresh_token, recoveryCodes: body.recovery_codes };
}

describe('DPoP at the OpenID Provider under TWOFOLD_DPOP=required and TWOFOLD_DPOP_NONCE=required', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let browser: OidcBrowser;
  let config: client.Configuration;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on', TWOFOLD_DPOP: 'required', TWOFOLD_DPOP_NONCE: 'required' } });
    user = await signUpWithProof(t);
    browser = new OidcBrowser(t.baseUrl);
    // Registered without --dpop: the server-wide policy asks it of every client.
    await registerPublicOidcClient(t.ctx.db, { clientId: 'any-app', redirectUris: [redirectUri], refreshTokens: true });
    config = await discoverAsClient(t, 'any-app');
  });
  afterAll(async () => t.close());

  it('DP-37: TWOFOLD_DPOP=required refuses a client registered without --dpop a token without a proof', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const callback = await authorizationCallback(t, browser, user, config, { redirectUri, scope: 'openid', verifier });
    await expect(client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-t' })).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('DP-38: a proof without the server nonce gets 400 use_dpop_nonce with a DPoP-Nonce header; openid-client retries with it and the whole flow works', async () => {
    const key = await createDpopTestKey('ES256');
    const proof = await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat: Math.floor(Date.now() / 1000) });
    const response = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'unknown', client_id: 'any-app' }).toString(),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('use_dpop_nonce');
    expect(response.headers.get('dpop-nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    const keyPair = await client.randomDPoPKeyPair();
    const dpop = client.getDPoPHandle(config, keyPair);
    const tokens = await loginWith(t, browser, user, config, offline, dpop);
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP: dpop });
    const info = await client.fetchUserInfo(config, refreshed.access_token, user.userId, { DPoP: dpop });
    expect(info.sub).toBe(user.userId);
  });
  it('DP-38: a browser app (its redirect URI’s origin) may send the DPoP header and read DPoP-Nonce across origins', async () => {
    const origin = new URL(redirectUri).origin;
    const preflight = await fetch(`${t.baseUrl}/oidc/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'dpop, content-type' } });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('dpop');
    const key = await createDpopTestKey('ES256');
    const response = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded', dpop: await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat: Math.floor(Date.now() / 1000) }) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'unknown', client_id: 'any-app' }).toString(),
    });
    await response.arrayBuffer();
    expect(response.headers.get('access-control-allow-origin')).toBe(origin);
    expect(response.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('dpop-nonce');
    expect(response.headers.get('dpop-nonce')).not.toBeNull();
    // The preflight is the provider's (it cannot know the client yet); the answer itself is readable only by the client's own origin.
    const fromElsewhere = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded', dpop: await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat: Math.floor(Date.now() / 1000) }) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'unknown', client_id: 'any-app' }).toString(),
    });
    await fromElsewhere.arrayBuffer();
    expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('DPoP at the OpenID Provider under TWOFOLD_DPOP=off', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let browser: OidcBrowser;
  let config: client.Configuration;

  beforeAll(async () => {
    // Even a client registered with --dpop: off means off.
    ({ t, user, config } = await startOidcTestbed({ clientId: 'off-app', redirectUris: [redirectUri], options: { dpop: true } }, { TWOFOLD_DPOP: 'off' }));
    browser = new OidcBrowser(t.baseUrl);
  });
  afterAll(async () => t.close());

  it('DP-34: no dpop_signing_alg_values_supported in either discovery document', async () => {
    for (const document of await discovery(t)) expect(document).not.toHaveProperty('dpop_signing_alg_values_supported');
  });

  it('DP-34: a DPoP header is ignored: the token is a Bearer token, good at userinfo as Bearer', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const callback = await authorizationCallback(t, browser, user, config, { redirectUri, scope: 'openid', verifier });
    const key = await createDpopTestKey('ES256');
    const proof = await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat: Math.floor(Date.now() / 1000) });
    const response = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier, client_id: 'off-app' }).toString(),
    });
    const body = (await response.json()) as Record<string, string>;
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body['token_type']).toBe('Bearer');
    expect((await userinfo(t, { authorization: `Bearer ${body['access_token']}` })).status).toBe(200);
  });
});
