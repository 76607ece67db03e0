// Dynamic client registration (RFC 7591) and its management (RFC 7592) at /oidc/reg: off unless
// the operator turns it on; with TWOFOLD_OIDC_REGISTRATION=token only for the holder of the
// initial access token, with `loopback` for anyone but only as a public loopback client. Either
// way a registered client gets the provider's policy (code flow, PKCE S256) and a refusal is the
// RFC 7591 error; a flood from one network is a 429, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { signUp, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';

const initialAccessToken = 'iat-0123456789abcdef0123456789abcdef';

async function register(t: ListeningTwofold, metadata: Record<string, unknown>, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${t.baseUrl}/oidc/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(metadata),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('dynamic registration with an initial access token', () => {
  let t: ListeningTwofold;
  let user: SignedUp;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on', TWOFOLD_OIDC_REGISTRATION: 'token', TWOFOLD_OIDC_REGISTRATION_TOKEN: initialAccessToken, TWOFOLD_OIDC_REGISTRATIONS_PER_CLIENT: '1000' } });
    user = await signUp(t);
  });
  afterAll(async () => t.close());

  it('OP-15: discovery names the registration endpoint', async () => {
    const metadata = (await (await fetch(`${t.baseUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata['registration_endpoint']).toBe(`${t.baseUrl}/oidc/reg`);
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'iat-0123456789abcdef0123456789abcdeX'],
    ['a token of another length', 'short'],
  ])('OP-15: a registration with %s is refused with the RFC error and registers nothing', async (_what, token) => {
    const refused = await register(t, { redirect_uris: ['https://rp.example/cb'], client_name: 'Sneaky' }, token);
    expect(refused.status).toBe(401);
    expect(refused.body['error']).toBe('invalid_token');
    expect(refused.body['client_id']).toBeUndefined();
  });

  it('OP-15: with the token a client registers, reads, updates (the access token rotates) and deletes itself; its secret is stored only sealed', async () => {
    const created = await register(t, { redirect_uris: ['https://rp.example/cb'], client_name: 'Registered RP', token_endpoint_auth_method: 'client_secret_basic' }, initialAccessToken);
    expect(created.status).toBe(201);
    const { client_id: clientId, client_secret: secret, registration_access_token: rat, registration_client_uri: uri } = created.body as Record<string, string>;
    expect(clientId).toMatch(/\S/);
    expect(uri).toBe(`${t.baseUrl}/oidc/reg/${clientId}`);
    expect(created.body['grant_types']).toEqual(['authorization_code']);
    expect(created.body['response_types']).toEqual(['code']);
    const row = await t.ctx.db.selectFrom('oidc_payloads').select(['payload', 'sealed_secret']).where('kind', '=', 'Client').where('id', '=', clientId!).executeTakeFirstOrThrow();
    expect(row.payload).not.toContain(secret!);
    expect(row.sealed_secret).toMatch(/^v1\./);

    const read = await fetch(uri!, { headers: { authorization: `Bearer ${rat}` } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as Record<string, unknown>)['client_secret']).toBe(secret);
    const readWithout = await fetch(uri!, { headers: { authorization: 'Bearer not-the-token' } });
    expect(readWithout.status).toBe(401);

    const updated = await fetch(uri!, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${rat}` },
      body: JSON.stringify({ client_id: clientId, client_secret: secret, redirect_uris: ['https://rp.example/new'], client_name: 'Registered RP', token_endpoint_auth_method: 'client_secret_basic' }),
    });
    expect(updated.status).toBe(200);
    const updatedBody = (await updated.json()) as Record<string, unknown>;
    expect(updatedBody['redirect_uris']).toEqual(['https://rp.example/new']);
    const newRat = String(updatedBody['registration_access_token']);
    expect(newRat).not.toBe(rat);

    // An update asking for more than the policy allows is refused like a registration.
    const widened = await fetch(uri!, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${newRat}` },
      body: JSON.stringify({ client_id: clientId, client_secret: secret, redirect_uris: ['http://rp.example/cb'] }),
    });
    expect(widened.status).toBe(400);
    expect(((await widened.json()) as Record<string, unknown>)['error']).toBe('invalid_redirect_uri');

    const deleted = await fetch(uri!, { method: 'DELETE', headers: { authorization: `Bearer ${newRat}` } });
    expect(deleted.status).toBe(204);
    expect((await fetch(uri!, { headers: { authorization: `Bearer ${newRat}` } })).status).toBe(401);
  });

  it.each([
    [{ redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
    [{ redirect_uris: ['http://rp.example/cb'] }, 'invalid_redirect_uri'],
    [{ redirect_uris: ['https://rp.example/cb#frag'] }, 'invalid_redirect_uri'],
    [{ redirect_uris: ['https://rp.example/cb'], response_types: ['code id_token'], grant_types: ['authorization_code', 'implicit'] }, 'invalid_client_metadata'],
    [{ redirect_uris: ['https://rp.example/cb'], response_types: ['token'] }, 'invalid_client_metadata'],
    [{ redirect_uris: ['https://rp.example/cb'], grant_types: ['client_credentials'] }, 'invalid_client_metadata'],
    [{ redirect_uris: ['https://rp.example/cb'], response_modes: ['fragment'] }, 'invalid_client_metadata'],
    [{ redirect_uris: ['https://rp.example/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://10.0.0.1/keys' }, 'invalid_client_metadata'],
    [{ redirect_uris: ['https://rp.example/cb'], sector_identifier_uri: 'https://10.0.0.1/sector' }, 'invalid_client_metadata'],
    [{ redirect_uris: 'https://rp.example/cb' }, 'invalid_redirect_uri'],
    [{ redirect_uris: ['https://rp.example/cb'], twofold_required_acr: 'aal3' }, 'invalid_client_metadata'],
  ])('OP-15: the registration %j is refused with %s', async (metadata, error) => {
    const refused = await register(t, metadata, initialAccessToken);
    expect(refused.status).toBe(400);
    expect(refused.body['error']).toBe(error);
    expect(refused.body['client_id']).toBeUndefined();
  });

  it.each([
    ['not JSON', 'application/json', '{"redirect_uris":'],
    ['a form', 'application/x-www-form-urlencoded', 'redirect_uris=https%3A%2F%2Frp.example%2Fcb'],
    ['a JSON array', 'application/json', '[]'],
    ['an empty body', 'application/json', ''],
  ])('OP-15: a registration that is %s is an OAuth error, never a 500', async (_what, type, body) => {
    const answer = await fetch(`${t.baseUrl}/oidc/reg`, { method: 'POST', headers: { 'content-type': type, authorization: `Bearer ${initialAccessToken}` }, body });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(((await answer.json()) as Record<string, unknown>)['error']).toMatch(/^invalid_/);
  });

  it('OP-15: management of an unknown client, or without a token, is 401, never a 500', async () => {
    for (const headers of [{ authorization: 'Bearer not-a-token' }, {}] as Array<Record<string, string>>) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const answer = await fetch(`${t.baseUrl}/oidc/reg/nobody`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(method === 'PUT' ? { body: '{}' } : {}) });
        expect(answer.status, `${method} ${JSON.stringify(headers)}`).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect(((await answer.json()) as Record<string, unknown>)['error']).toMatch(/^invalid_/);
      }
    }
  });

  it('OP-15: a registrant may require aal2 of its logins, and may not make itself first-party', async () => {
    const created = await register(t, { redirect_uris: ['https://rp.example/cb'], token_endpoint_auth_method: 'none', twofold_required_acr: 'aal2', twofold_first_party: true }, initialAccessToken);
    expect(created.status).toBe(201);
    expect(created.body['twofold_required_acr']).toBe('aal2');
    expect(created.body['twofold_first_party']).toBeUndefined();
    const row = await t.ctx.db.selectFrom('oidc_payloads').select('payload').where('kind', '=', 'Client').where('id', '=', String(created.body['client_id'])).executeTakeFirstOrThrow();
    expect(JSON.parse(row.payload)['twofold_first_party']).toBeUndefined();
  });

  it('OP-15: a registered client is third-party: PKCE is required of it and the person is asked for consent', async () => {
    const created = await register(t, { redirect_uris: ['https://rp.example/cb'], client_name: 'Registered RP', token_endpoint_auth_method: 'none' }, initialAccessToken);
    expect(created.status).toBe(201);
    const clientId = String(created.body['client_id']);
    const config = await discoverAsClient(t, clientId);
    const withoutPkce = new URL((await new OidcBrowser(t.baseUrl).follow(client.buildAuthorizationUrl(config, { redirect_uri: 'https://rp.example/cb', scope: 'openid', state: 's' }).href)).url);
    expect(withoutPkce.searchParams.get('error')).toBe('invalid_request');

    const browser = new OidcBrowser(t.baseUrl);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: 'https://rp.example/cb', scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
    const callback = await browser.signIn(t, user, url);
    expect(browser.consentPages).toHaveLength(1);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 's' });
    expect(tokens.claims()!.aud).toBe(clientId);
  });
});

describe('dynamic registration of public loopback clients', () => {
  let t: ListeningTwofold;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on', TWOFOLD_OIDC_REGISTRATION: 'loopback', TWOFOLD_OIDC_REGISTRATIONS_PER_CLIENT: '6' } });
  });
  afterAll(async () => t.close());

  it('OP-15: a native app or agent registers without a token: public, loopback redirect URIs, registered as native', async () => {
    const created = await register(t, { redirect_uris: ['http://127.0.0.1/callback', 'http://[::1]/callback'], client_name: 'Local agent', token_endpoint_auth_method: 'none' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ token_endpoint_auth_method: 'none', application_type: 'native' });
    expect(created.body['client_secret']).toBeUndefined();
  });

  it.each([
    [{ redirect_uris: ['https://agent.example/cb'], token_endpoint_auth_method: 'none' }, 'invalid_redirect_uri'],
    [{ redirect_uris: ['http://agent.example/cb'], token_endpoint_auth_method: 'none' }, 'invalid_redirect_uri'],
    [{ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'client_secret_basic' }, 'invalid_client_metadata'],
  ])('OP-15: %j is not a public loopback client: %s', async (metadata, error) => {
    const refused = await register(t, metadata);
    expect(refused.status).toBe(400);
    expect(refused.body['error']).toBe(error);
  });

  it('OP-15: a flood of registrations from one network is refused with 429, Retry-After and the OAuth error shape', async () => {
    // Four registrations above were counted (refused ones too); the budget is six an hour.
    const answers: number[] = [];
    let last: Response | undefined;
    for (let attempt = 0; attempt < 4; attempt += 1) {
      last = await fetch(`${t.baseUrl}/oidc/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }) });
      answers.push(last.status);
      if (last.status === 429) break;
      await last.text();
    }
    expect(answers).toEqual([201, 201, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await last!.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringMatching(/Too many client registrations/) });
  });
});

describe('dynamic registration off (the default)', () => {
  it('OP-15: /oidc/reg does not exist and discovery names no registration endpoint', async () => {
    const t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on' } });
    try {
      const refused = await fetch(`${t.baseUrl}/oidc/reg`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${initialAccessToken}` }, body: JSON.stringify({ redirect_uris: ['https://rp.example/cb'] }) });
      expect(refused.status).toBe(404);
      expect(await refused.text()).not.toContain('client_id');
      const metadata = (await (await fetch(`${t.baseUrl}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(metadata['registration_endpoint']).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
