// private_key_jwt (RFC 7523, OpenID Connect Core 9): a client registered with its public keys
// authenticates at the token endpoint with an assertion signed by its private key — openid-client's
// PrivateKeyJwt with a jose key pair. An assertion signed by another key, one used a second time
// (its jti), or one made out to another audience is refused with the RFC invalid_client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { checkedClientRegistration, registerKeyAuthenticatedOidcClient } from '../../src/oidc/clients.js';
import { signUp, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://keyed.example/callback';
const clientId = 'keyed-app';

describe('private_key_jwt clients', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let browser: OidcBrowser;
  let privateKey: CryptoKey;
  let otherKey: CryptoKey;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on' } });
    user = await signUp(t);
    browser = new OidcBrowser(t.baseUrl);
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'keyed-1', alg: 'ES256', use: 'sig' };
    await registerKeyAuthenticatedOidcClient(t.ctx.db, { clientId, redirectUris: [redirectUri], firstParty: true, options: { jwks: { keys: [publicJwk] } } });
  });
  afterAll(async () => t.close());

  async function authorize(config: client.Configuration): Promise<{ callback: URL; verifier: string }> {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'k' });
    const first = await browser.follow(url.href);
    const callback = first.url.startsWith(redirectUri) ? new URL(first.url) : await browser.signIn(t, user, url);
    return { callback, verifier };
  }

  /** An assertion as RFC 7523 describes it, signed by `key`, for `audience`. */
  function assertion(key: CryptoKey, audience: string, jti = crypto.randomUUID()): Promise<string> {
    return new SignJWT({ jti }).setProtectedHeader({ alg: 'ES256', kid: 'keyed-1' }).setIssuer(clientId).setSubject(clientId).setAudience(audience).setIssuedAt().setExpirationTime('60s').sign(key);
  }

  function tokenRequest(clientAssertion: string, code = 'not-a-code'): Promise<Response> {
    return fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: 'v'.repeat(43),
        client_id: clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: clientAssertion,
      }).toString(),
    });
  }

  it('OP-14: the code flow with openid-client’s PrivateKeyJwt and the registered key gives an ID token', async () => {
    const config = await discoverAsClient(t, clientId, client.PrivateKeyJwt({ key: privateKey, kid: 'keyed-1' }));
    expect(config.serverMetadata().token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    const { callback, verifier } = await authorize(config);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'k' });
    expect(tokens.claims()!.sub).toBe(user.userId);
    expect(tokens.claims()!.aud).toBe(clientId);
  });

  it('OP-14: an assertion signed by another key is invalid_client', async () => {
    const refused = await tokenRequest(await assertion(otherKey, t.baseUrl));
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Record<string, unknown>)['error']).toBe('invalid_client');
  });

  it('OP-14: the same assertion (its jti) a second time is invalid_client', async () => {
    const once = await assertion(privateKey, t.baseUrl);
    const first = await tokenRequest(once);
    // The client was authenticated; only the made-up code was refused.
    expect(((await first.json()) as Record<string, unknown>)['error']).toBe('invalid_grant');
    const replayed = await tokenRequest(once);
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as Record<string, unknown>)['error']).toBe('invalid_client');
  });

  it('OP-14: one assertion sent 20 times at once authenticates exactly once; the rest are invalid_client', async () => {
    const once = await assertion(privateKey, t.baseUrl);
    const answers = await Promise.all(Array.from({ length: 20 }, async () => ((await (await tokenRequest(once)).json()) as Record<string, unknown>)['error']));
    // Authenticated, the made-up code is invalid_grant: that happened once.
    expect(answers.filter((error) => error === 'invalid_grant')).toHaveLength(1);
    expect(answers.filter((error) => error === 'invalid_client')).toHaveLength(19);
  });

  it('OP-14: an assertion made out to another audience is invalid_client', async () => {
    const refused = await tokenRequest(await assertion(privateKey, 'https://other-provider.example'));
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Record<string, unknown>)['error']).toBe('invalid_client');
  });

  it('OP-14: a JWKS with a private key is refused at registration', async () => {
    const leaked = await exportJWK(privateKey);
    expect(() => checkedClientRegistration('leaky', [redirectUri], { authMethod: 'private_key_jwt', options: { jwks: { keys: [leaked as Record<string, unknown>] } } })).toThrow(/private or symmetric key/);
    expect(() => checkedClientRegistration('keyless', [redirectUri], { authMethod: 'private_key_jwt' })).toThrow(/needs its public keys/);
    expect(() => checkedClientRegistration('plain-uri', [redirectUri], { authMethod: 'private_key_jwt', options: { jwksUri: 'http://keys.example/jwks.json' } })).toThrow(/must be an https URL/);
  });
});
