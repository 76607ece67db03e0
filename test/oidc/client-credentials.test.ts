// Service clients of the OpenID Provider (RFC 6749 4.4), with openid-client as the client against
// a listening Twofold: `twofold clients add --service` registers a confidential client with only
// the client_credentials grant; it gets RFC 9068 JWT access tokens for a registered resource
// (RFC 8707), signed with Twofold's key, its own id as the subject. Such a token is no person's:
// twofold/verify, which guards routes for people, refuses it. What it may not do is refused with
// the RFC error, never a 500.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { registerPublicOidcClient, registerServiceOidcClient } from '../../src/oidc/clients.js';
import { createVerifier, VerificationError } from '../../src/verify/index.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { runCommand } from '../helpers/process.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';
import { startTestTwofold, testEnvironment } from '../helpers/twofold.js';

const reportsApi = 'https://reports.example/';
const resourcesEnv = `${reportsApi} reports:read reports:write`;

describe('service clients of the OpenID Provider (client credentials)', () => {
  let t: ListeningTwofold;
  let secret: string;
  let config: client.Configuration;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on', TWOFOLD_OIDC_RESOURCES: resourcesEnv } });
    secret = await registerServiceOidcClient(t.ctx.db, t.ctx.secretBox, 'reporting');
    config = await discoverAsClient(t, 'reporting', client.ClientSecretBasic(secret));
  });
  afterAll(async () => t.close());

  async function tokenRequest(form: Record<string, string>, authorization?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${t.baseUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization === undefined ? {} : { authorization }) },
      body: new URLSearchParams(form).toString(),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const basic = (clientId: string, clientSecret: string) => `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;

  it('OP-07: discovery offers the client_credentials grant', () => {
    expect(config.serverMetadata().grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
  });

  it('OP-07: a service client gets an at+jwt for a registered resource: its audience the resource, its subject the client, signed with Twofold’s key', async () => {
    const tokens = await client.clientCredentialsGrant(config, { scope: 'reports:read', resource: reportsApi });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.scope).toBe('reports:read');
    const jwks = createRemoteJWKSet(new URL(`${t.baseUrl}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: t.baseUrl, audience: reportsApi, typ: 'at+jwt', currentDate: new Date() });
    expect(protectedHeader.kid).toBe((await t.ctx.keys.currentKey()).kid);
    expect(payload.sub).toBe('reporting');
    expect(payload['client_id']).toBe('reporting');
    expect(payload['scope']).toBe('reports:read');
    expect(payload['sid']).toBeUndefined();
    expect(payload['acr']).toBeUndefined();
  });

  it('OP-07: twofold/verify refuses a service client’s token: it guards routes for people, and no person signed in', async () => {
    const tokens = await client.clientCredentialsGrant(config, { scope: 'reports:read', resource: reportsApi });
    expect(tokens.access_token.split('.')).toHaveLength(3);
    const verifier = createVerifier({ issuer: t.baseUrl, audience: reportsApi, revocations: false });
    try {
      const refused = await verifier.verify(tokens.access_token).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(VerificationError);
      expect((refused as VerificationError).code).toBe('invalid_token');
      expect((refused as VerificationError).message).toMatch(/lacks a claim/);
    } finally {
      verifier.close();
    }
  });

  it('OP-07: an unregistered resource is refused with invalid_target; a wrong secret with invalid_client; never a 500', async () => {
    const unknown = await tokenRequest({ grant_type: 'client_credentials', resource: 'https://unknown.example/', scope: 'reports:read' }, basic('reporting', secret));
    expect(unknown.status).toBe(400);
    expect(unknown.body['error']).toBe('invalid_target');

    const notAUri = await tokenRequest({ grant_type: 'client_credentials', resource: 'not a uri' }, basic('reporting', secret));
    expect(notAUri.status).toBe(400);
    expect(notAUri.body['error']).toBe('invalid_target');

    const wrong = await tokenRequest({ grant_type: 'client_credentials', resource: reportsApi }, basic('reporting', `${secret.slice(1)}x`));
    expect(wrong.status).toBe(401);
    expect(wrong.body['error']).toBe('invalid_client');
  });

  it('OP-07: a service client’s token presented to userinfo is refused with invalid_token (no person behind it)', async () => {
    for (const resource of [reportsApi, undefined]) {
      const tokens = await client.clientCredentialsGrant(config, { scope: 'reports:read', ...(resource === undefined ? {} : { resource }) });
      const userinfo = await fetch(`${t.baseUrl}/oidc/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(userinfo.status).toBe(401);
      expect(userinfo.headers.get('www-authenticate')).toContain('invalid_token');
    }
  });

  it('OP-07: a scope the resource does not have is not granted', async () => {
    const answer = await tokenRequest({ grant_type: 'client_credentials', resource: reportsApi, scope: 'reports:delete' }, basic('reporting', secret));
    expect(answer.status).toBe(200);
    expect(answer.body['scope']).toBeUndefined();
    const jwks = createRemoteJWKSet(new URL(`${t.baseUrl}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(String(answer.body['access_token']), jwks, { audience: reportsApi });
    expect(payload['scope']).toBeUndefined();
  });

  it('OP-07: a service client cannot sign anyone in (no redirect URI, no code grant); a public client cannot use client credentials', async () => {
    const authorization = await fetch(`${t.baseUrl}/oidc/auth?${new URLSearchParams({ client_id: 'reporting', response_type: 'code', scope: 'openid', redirect_uri: 'https://reports.example/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`, { redirect: 'manual' });
    expect(authorization.status).toBe(400);
    expect(authorization.headers.get('location')).toBeNull();
    const code = await tokenRequest({ grant_type: 'authorization_code', code: 'any', redirect_uri: 'https://reports.example/cb', code_verifier: 'v'.repeat(43) }, basic('reporting', secret));
    expect(code.status).toBe(400);
    expect(code.body['error']).toBe('unauthorized_client');

    await registerPublicOidcClient(t.ctx.db, { clientId: 'public-app', redirectUris: ['https://app.example/cb'] });
    const publicCredentials = await tokenRequest({ grant_type: 'client_credentials', client_id: 'public-app', resource: reportsApi });
    expect(publicCredentials.status).toBe(400);
    expect(publicCredentials.body['error']).toBe('unauthorized_client');
  });
});

describe('twofold clients add --service', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-oidc-service-'));
  const env = testEnvironment(dataDir, { TWOFOLD_LOG_LEVEL: 'warn', TWOFOLD_OIDC: 'on' });
  const twofold = (...args: string[]) => runCommand(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], env);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('OP-06, OP-07: --service registers a client with only client_credentials and no redirect URI, prints its secret once, and that secret gets a token; --grant refresh_token adds the grant', async () => {
    const added = await twofold('clients', 'add', '--service', '--id', 'nightly-export', '--json');
    expect(added.code, added.stderr).toBe(0);
    const { client_secret: serviceSecret, ...shown } = JSON.parse(added.stdout) as { client_secret: string };
    expect(serviceSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(shown).toEqual({ client_id: 'nightly-export', redirect_uris: [], post_logout_redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', first_party: false, grant_types: ['client_credentials'], required_acr: 'aal1', subject_type: 'public', require_par: false, native: false, dpop: false });
    const listed = await twofold('clients', 'show', 'nightly-export');
    expect(listed.stdout).toContain('client_credentials');
    expect(listed.stdout).not.toContain(serviceSecret);

    const refused = await twofold('clients', 'add', '--service', '--id', 'mixed', '--redirect-uri', 'https://mixed.example/cb');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--service');

    // --grant refresh_token: the other grant an operator may add, to a client that signs people in.
    const withRefresh = await twofold('clients', 'add', '--id', 'mobile', '--redirect-uri', 'https://mobile.example/cb', '--grant', 'refresh_token', '--json');
    expect(withRefresh.code, withRefresh.stderr).toBe(0);
    expect(JSON.parse(withRefresh.stdout)['grant_types']).toEqual(['authorization_code', 'refresh_token']);
    const unknownGrant = await twofold('clients', 'add', '--id', 'mobile2', '--redirect-uri', 'https://mobile.example/cb', '--grant', 'password');
    expect(unknownGrant.code).not.toBe(0);
    expect(unknownGrant.stderr).toContain('--grant takes refresh_token');

    const t = await startTestTwofold({ dataDir, env: { TWOFOLD_OIDC: 'on', TWOFOLD_OIDC_RESOURCES: resourcesEnv } });
    try {
      const response = await t.app.inject({
        method: 'POST',
        url: '/oidc/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`nightly-export:${serviceSecret}`).toString('base64')}` },
        payload: new URLSearchParams({ grant_type: 'client_credentials', resource: reportsApi, scope: 'reports:read' }).toString(),
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()['scope']).toBe('reports:read');
      expect(String(response.json()['access_token']).split('.')).toHaveLength(3);
    } finally {
      await t.app.close();
      await t.twofold.close();
    }
  }, 120_000); // seven CLI runs, each a Node start: slow on a busy machine
});
