// Confidential clients of the OpenID Provider, with openid-client as the relying party against a
// listening Twofold: the code flow with the secret sent either way the client registered
// (client_secret_basic, client_secret_post), PKCE still required; a wrong secret, or the one a
// rotation replaced, refused with the RFC 6749 invalid_client; the secret never stored in clear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { registerConfidentialOidcClient, rotateOidcClientSecret, type ConfidentialAuthMethod } from '../../src/oidc/clients.js';
import { signUp, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://backend.example/callback';

describe('confidential clients of the OpenID Provider', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let browser: OidcBrowser;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on' } });
    user = await signUp(t);
    browser = new OidcBrowser(t.baseUrl);
  });
  afterAll(async () => t.close());

  function authentication(method: ConfidentialAuthMethod, secret: string): client.ClientAuth {
    return method === 'client_secret_basic' ? client.ClientSecretBasic(secret) : client.ClientSecretPost(secret);
  }

  async function configuration(clientId: string, method: ConfidentialAuthMethod, secret: string): Promise<client.Configuration> {
    return discoverAsClient(t, clientId, authentication(method, secret));
  }

  /** An authorization for the signed-in browser (the first one signs in through the pages): the callback and its verifier. */
  async function authorize(config: client.Configuration): Promise<{ callback: URL; verifier: string }> {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'state-c' });
    const first = await browser.follow(url.href);
    const callback = first.url.startsWith(redirectUri) ? new URL(first.url) : await browser.signIn(t, user, url);
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    return { callback, verifier };
  }

  it('OP-05: discovery offers a client secret (Basic or in the form), a key (private_key_jwt) or none (public, PKCE) at the token endpoint, nothing else', async () => {
    const secret = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'backend-discovery', redirectUris: [redirectUri] });
    const metadata = (await configuration('backend-discovery', 'client_secret_basic', secret)).serverMetadata();
    expect([...(metadata.token_endpoint_auth_methods_supported ?? [])].sort()).toEqual(['client_secret_basic', 'client_secret_post', 'none', 'private_key_jwt']);
    expect(metadata.registration_endpoint).toBeUndefined();
  });

  it.each(['client_secret_basic', 'client_secret_post'] as const)('OP-05: a confidential client with %s completes the code flow with its secret', async (method) => {
    const clientId = `backend-${method}`;
    const secret = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId, redirectUris: [redirectUri], authMethod: method });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const config = await configuration(clientId, method, secret);
    const { callback, verifier } = await authorize(config);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-c' });
    expect(tokens.claims()!.sub).toBe(user.userId);
    expect(tokens.claims()!.aud).toBe(clientId);
  });

  it('OP-05: a wrong secret is refused with 401 and the RFC invalid_client body', async () => {
    const secret = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'backend-wrong', redirectUris: [redirectUri] });
    const wrong = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    const { callback, verifier } = await authorize(await configuration('backend-wrong', 'client_secret_basic', secret));
    const refused = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`backend-wrong:${wrong}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier }).toString(),
    });
    expect(refused.status).toBe(401);
    const body = (await refused.json()) as Record<string, unknown>;
    expect(body['error']).toBe('invalid_client');
    expect(JSON.stringify(body)).not.toContain(secret);

    // No secret at all, as if the client were public: refused the same way.
    const withoutSecret = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'backend-wrong', code: 'any', redirect_uri: redirectUri, code_verifier: verifier }).toString(),
    });
    expect(withoutSecret.status).toBe(401);
    expect(((await withoutSecret.json()) as Record<string, unknown>)['error']).toBe('invalid_client');
  });

  it('OP-05: PKCE stays required of a confidential client', async () => {
    const secret = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'backend-pkce', redirectUris: [redirectUri] });
    const config = await configuration('backend-pkce', 'client_secret_basic', secret);
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', state: 'state-c' });
    const answer = new URL((await browser.follow(url.href)).url);
    expect(answer.origin + answer.pathname).toBe(redirectUri);
    expect(answer.searchParams.get('error')).toBe('invalid_request');
    expect(answer.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('OP-05: after rotate-secret the old secret is refused and the new one works', async () => {
    const old = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'backend-rotated', redirectUris: [redirectUri] });
    const rotated = await rotateOidcClientSecret(t.ctx.db, t.ctx.secretBox, 'backend-rotated');
    expect(rotated).not.toBe(old);

    const oldConfig = await configuration('backend-rotated', 'client_secret_basic', old);
    const first = await authorize(oldConfig);
    // A 401 with a Basic challenge: openid-client reports the challenge's invalid_client.
    const refused = await client.authorizationCodeGrant(oldConfig, first.callback, { pkceCodeVerifier: first.verifier, expectedState: 'state-c' }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 401 });
    expect(JSON.stringify((refused as { cause?: unknown }).cause)).toContain('invalid_client');

    const newConfig = await configuration('backend-rotated', 'client_secret_basic', rotated);
    const second = await authorize(newConfig);
    const tokens = await client.authorizationCodeGrant(newConfig, second.callback, { pkceCodeVerifier: second.verifier, expectedState: 'state-c' });
    expect(tokens.claims()!.aud).toBe('backend-rotated');
  });

  it('OP-05: the database row holds the secret only sealed, bound to its client', async () => {
    const secret = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'backend-stored', redirectUris: [redirectUri] });
    const row = await t.ctx.db.selectFrom('oidc_payloads').selectAll().where('kind', '=', 'Client').where('id', '=', 'backend-stored').executeTakeFirstOrThrow();
    const everything = JSON.stringify(row);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(Buffer.from(secret, 'base64url').toString('hex'));
    expect(everything).not.toContain('client_secret"');
    expect(row.sealed_secret).toMatch(/^v1\./);
  });

  it('OP-05: a sealed secret copied into another client’s row does not open there: that client is refused, never a 500', async () => {
    await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'backend-source', redirectUris: [redirectUri] });
    const targetSecret = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'backend-target', redirectUris: [redirectUri] });
    const source = await t.ctx.db.selectFrom('oidc_payloads').select('sealed_secret').where('kind', '=', 'Client').where('id', '=', 'backend-source').executeTakeFirstOrThrow();
    await t.ctx.db.updateTable('oidc_payloads').set({ sealed_secret: source.sealed_secret }).where('kind', '=', 'Client').where('id', '=', 'backend-target').execute();

    const refused = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`backend-target:${targetSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'any', redirect_uri: redirectUri, code_verifier: 'v'.repeat(43) }).toString(),
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Record<string, unknown>)['error']).toBe('invalid_client');
  });
});
