// Access tokens of the OpenID Provider for the resource servers the operator registered
// (TWOFOLD_OIDC_RESOURCES, RFC 8707), checked by the real twofold/verify against a listening
// Twofold: an RFC 9068 JWT (typ at+jwt) signed with Twofold's current key, its audience the
// resource, its sid the Twofold session and its acr, amr and auth_time the login's — so the
// verifier accepts it as it accepts Twofold's own access tokens, refuses it for another audience,
// and refuses it once the Twofold session has ended (the revoked-sessions feed). A token without
// a resource stays opaque, for userinfo only; a resource token is no good at userinfo.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { registerPublicOidcClient } from '../../src/oidc/clients.js';
import { createVerifier, VerificationError, type Verifier } from '../../src/verify/index.js';
import { createTestClock } from '../helpers/clock.js';
import { signUp, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { authorizationCallback, oidcLogin } from '../helpers/oidc-login.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://spa.example/callback';
const ordersApi = 'https://orders.example/api';
const billingApi = 'https://billing.example/';

describe('JWT access tokens of the OpenID Provider for registered resources', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let config: client.Configuration;
  const verifiers: Verifier[] = [];

  /** twofold/verify as a resource server would set it up: discovery, JWKS and the revoked-sessions feed. */
  function verifierFor(audience: string): Verifier {
    // Twofold's test clock starts at the wall clock, like the provider's (which reads the wall clock).
    const verifier = createVerifier({ issuer: t.baseUrl, audience, now: () => t.clock.now(), revocations: { intervalMs: 50 } });
    verifiers.push(verifier);
    return verifier;
  }

  beforeAll(async () => {
    const stepStart = Math.floor(Date.now() / 30_000) * 30_000 + 10_000;
    t = await startListeningTwofold({ clock: createTestClock(stepStart), env: { TWOFOLD_OIDC: 'on', TWOFOLD_OIDC_RESOURCES: `${ordersApi} orders:read orders:write, ${billingApi} invoices:read` } });
    user = await signUp(t);
    await registerPublicOidcClient(t.ctx.db, { clientId: 'spa', redirectUris: [redirectUri], refreshTokens: true });
    config = await discoverAsClient(t, 'spa');
  });
  afterAll(async () => {
    for (const verifier of verifiers) verifier.close();
    await t.close();
  });

  it('OP-08: a token for a registered resource is an at+jwt signed with Twofold’s current key; twofold/verify accepts it with the login’s acr, amr, auth_time and Twofold session', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const tokens = await oidcLogin(t, browser, user, config, { redirectUri, scope: 'openid orders:read', resource: ordersApi, tokenResource: ordersApi });
    const accessToken = tokens.access_token;
    expect(decodeProtectedHeader(accessToken)).toMatchObject({ typ: 'at+jwt', kid: (await t.ctx.keys.currentKey()).kid, alg: t.config.tokens.signingAlgorithm });

    const claims = await verifierFor(ordersApi).verify(accessToken, { acr: 'aal2' });
    const idClaims = tokens.claims()!;
    expect(claims.iss).toBe(t.baseUrl);
    expect(claims.aud).toBe(ordersApi);
    expect(claims.sub).toBe(user.userId);
    expect(claims.client_id).toBe('spa');
    expect(claims['scope']).toBe('orders:read');
    expect(claims.acr).toBe(idClaims['acr']);
    expect(claims.amr).toEqual(idClaims['amr']);
    expect(claims.auth_time).toBe(idClaims.auth_time);
    // The sid is the Twofold session the browser signed in with — what the revoked-sessions feed lists.
    const session = await t.ctx.db.selectFrom('sessions').selectAll().where('id', '=', claims.sid).executeTakeFirst();
    expect(session?.user_id).toBe(user.userId);
    expect(session?.revoked_at).toBeNull();
  });

  it('OP-08: the verifier of another audience refuses it; so does the verifier of Twofold’s own audience', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const tokens = await oidcLogin(t, browser, user, config, { redirectUri, scope: 'openid orders:read', resource: ordersApi, tokenResource: ordersApi });
    for (const audience of [billingApi, t.config.audience]) {
      const refused = await verifierFor(audience).verify(tokens.access_token).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(VerificationError);
      expect((refused as VerificationError).code).toBe('invalid_token');
    }
  });

  it('OP-08: once the Twofold session behind it is signed out, twofold/verify refuses the token (revoked-sessions feed)', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const tokens = await oidcLogin(t, browser, user, config, { redirectUri, scope: 'openid orders:read', resource: ordersApi, tokenResource: ordersApi });
    const verifier = verifierFor(ordersApi);
    await verifier.ready();
    expect((await verifier.verify(tokens.access_token)).sub).toBe(user.userId);

    const signedOut = await browser.request('/sign-out', { method: 'POST', form: { csrf: browser.csrf() } });
    expect(signedOut.status).toBe(303);
    let refused: unknown;
    for (let attempt = 0; attempt < 100 && refused === undefined; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      refused = await verifier.verify(tokens.access_token).then(() => undefined, (error: unknown) => error);
    }
    expect(refused).toBeInstanceOf(VerificationError);
    expect((refused as VerificationError).message).toMatch(/session of this token has ended/);
  });

  it('OP-08: a refresh for the resource gives a JWT with the original acr, amr and auth_time', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const tokens = await oidcLogin(t, browser, user, config, { redirectUri, scope: 'openid offline_access orders:read orders:write', resource: ordersApi, tokenResource: ordersApi });
    const original = await verifierFor(ordersApi).verify(tokens.access_token);
    t.clock.advanceSeconds(60);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: ordersApi });
    const claims = await verifierFor(ordersApi).verify(refreshed.access_token);
    expect(claims.acr).toBe(original.acr);
    expect(claims.amr).toEqual(original.amr);
    expect(claims.auth_time).toBe(original.auth_time);
    expect(claims.sid).toBe(original.sid);
    expect(claims['scope']).toBe('orders:read orders:write');
  });

  it('OP-08: without a resource the access token is opaque and good at userinfo; a resource token presented to userinfo is refused (invalid_token)', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const opaque = await oidcLogin(t, browser, user, config, { redirectUri, scope: 'openid' });
    expect(opaque.access_token.split('.')).toHaveLength(1);
    expect((await client.fetchUserInfo(config, opaque.access_token, user.userId)).sub).toBe(user.userId);
    const refusedOpaque = await verifierFor(ordersApi).verify(opaque.access_token).catch((error: unknown) => error);
    expect((refusedOpaque as VerificationError).code).toBe('invalid_token');

    const jwt = await oidcLogin(t, browser, user, config, { redirectUri, scope: 'openid orders:read', resource: ordersApi, tokenResource: ordersApi });
    expect(decodeJwt(jwt.access_token).aud).toBe(ordersApi);
    const userinfo = await fetch(`${t.baseUrl}/oidc/me`, { headers: { authorization: `Bearer ${jwt.access_token}` } });
    expect(userinfo.status).toBe(401);
    expect(userinfo.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('OP-08: an unregistered resource is refused with invalid_target, at the authorization endpoint and at the token endpoint', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const verifier = client.randomPKCECodeVerifier();
    const callback = await authorizationCallback(t, browser, user, config, { redirectUri, scope: 'openid', resource: 'https://unknown.example/', verifier });
    expect(callback.searchParams.get('error')).toBe('invalid_target');

    const code = client.randomPKCECodeVerifier();
    const granted = await authorizationCallback(t, browser, user, config, { redirectUri, scope: 'openid orders:read', resource: ordersApi, verifier: code });
    const response = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'spa', code: granted.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: code, resource: 'https://unknown.example/' }).toString(),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Record<string, unknown>)['error']).toBe('invalid_target');
  });
});
