// `twofold clients add|list|remove` against a data directory, and what the provider then does
// with the client: its registered redirect URI gets the sign-in, a removed client gets nothing.
// Registrations are checked before anything is stored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkedClientRegistration } from '../../src/oidc/clients.js';
import { runCommand } from '../helpers/process.js';
import { startTestTwofold, testEnvironment } from '../helpers/twofold.js';

const dataDir = mkdtempSync(join(tmpdir(), 'twofold-oidc-clients-'));
const env = testEnvironment(dataDir, { TWOFOLD_LOG_LEVEL: 'warn', TWOFOLD_OIDC: 'on' });
const twofold = (...args: string[]) => runCommand(process.execPath, ['dist/cli/main.js', ...args], env);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function authorize(clientId: string, redirectUri: string): Promise<{ status: number; location: string | undefined }> {
  const t = await startTestTwofold({ dataDir, env: { TWOFOLD_OIDC: 'on' } });
  try {
    const query = new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const response = await t.app.inject({ method: 'GET', url: `/oidc/auth?${query}` });
    const location = response.headers.location;
    return { status: response.statusCode, location: typeof location === 'string' ? location : undefined };
  } finally {
    await t.app.close();
    await t.twofold.close();
  }
}

describe('twofold clients', () => {
  it('OP-01: add registers a public client whose exact redirect URI gets the sign-in; list shows it; remove ends it', async () => {
    const added = await twofold('clients', 'add', '--id', 'shop', '--redirect-uri', 'https://shop.example/callback', '--json');
    expect(added.code, added.stderr).toBe(0);
    const shop = { client_id: 'shop', redirect_uris: ['https://shop.example/callback'], post_logout_redirect_uris: [], token_endpoint_auth_method: 'none', first_party: false, grant_types: ['authorization_code'], required_acr: 'aal1', subject_type: 'public', require_par: false, native: false, dpop: false };
    expect(JSON.parse(added.stdout)).toEqual(shop);

    const listed = await twofold('clients', 'list', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([shop]);

    const signIn = await authorize('shop', 'https://shop.example/callback');
    expect(signIn.status).toBe(303);
    expect(signIn.location).toMatch(/\/oidc\/interaction\/[A-Za-z0-9_-]+$/);
    const otherRedirect = await authorize('shop', 'https://shop.example/other');
    expect(otherRedirect.status).toBe(400);
    expect(otherRedirect.location).toBeUndefined();

    const removed = await twofold('clients', 'remove', 'shop');
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('client shop removed');
    const afterRemoval = await authorize('shop', 'https://shop.example/callback');
    expect(afterRemoval.status).toBe(400);
    expect(afterRemoval.location).toBeUndefined();
  });

  it('OP-05: add --confidential prints a 256-bit secret once; show and list never print it; rotate-secret prints a new one', async () => {
    const added = await twofold('clients', 'add', '--id', 'backend', '--redirect-uri', 'https://backend.example/cb', '--confidential', '--auth-method', 'client_secret_post', '--post-logout-redirect-uri', 'https://backend.example/bye', '--first-party', '--json');
    expect(added.code, added.stderr).toBe(0);
    const { client_secret: secret, ...backend } = JSON.parse(added.stdout) as { client_secret: string };
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(backend).toEqual({ client_id: 'backend', redirect_uris: ['https://backend.example/cb'], post_logout_redirect_uris: ['https://backend.example/bye'], token_endpoint_auth_method: 'client_secret_post', first_party: true, grant_types: ['authorization_code'], required_acr: 'aal1', subject_type: 'public', require_par: false, native: false, dpop: false });

    for (const args of [['show', 'backend'], ['show', 'backend', '--json'], ['list'], ['list', '--json']]) {
      const shown = await twofold('clients', ...args);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain('backend');
      expect(shown.stdout + shown.stderr, args.join(' ')).not.toContain(secret);
      expect(shown.stdout, args.join(' ')).not.toContain('client_secret"');
    }
    const shown = await twofold('clients', 'show', 'backend', '--json');
    expect(JSON.parse(shown.stdout)).toEqual(backend);

    const rotated = await twofold('clients', 'rotate-secret', 'backend');
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain('the old one no longer works');
    const newSecret = /client secret \(shown once, store it now\): ([A-Za-z0-9_-]+)/.exec(rotated.stdout)?.[1];
    expect(newSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newSecret).not.toBe(secret);
    expect((await twofold('clients', 'remove', 'backend')).code).toBe(0);
  });

  it.each([
    [['show', 'nobody'], 'no client "nobody"'],
    [['rotate-secret', 'nobody'], 'no client "nobody"'],
    [['add', '--id', 'pub', '--redirect-uri', 'https://pub.example/cb', '--auth-method', 'client_secret_post'], 'add --confidential'],
    [['add', '--id', 'conf', '--redirect-uri', 'https://conf.example/cb', '--confidential', '--auth-method', 'tls_client_auth'], 'is not one of client_secret_basic, client_secret_post, private_key_jwt'],
    [['add', '--id', 'conf', '--redirect-uri', 'https://conf.example/cb', '--confidential', '--auth-method', 'private_key_jwt'], 'needs its public keys: --jwks-file or --jwks-uri'],
    [['add', '--id', 'conf', '--redirect-uri', 'https://conf.example/cb', '--confidential', '--post-logout-redirect-uri', 'http://conf.example/bye'], 'post-logout redirect URI'],
  ])('bad input %j gives a clear message and a non-zero exit', async (args, message) => {
    const refused = await twofold('clients', ...args);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(message);
    expect(JSON.parse((await twofold('clients', 'list', '--json')).stdout)).toEqual([]);
  });

  it('rotate-secret refuses a public client: it has no secret', async () => {
    expect((await twofold('clients', 'add', '--id', 'spa', '--redirect-uri', 'https://spa.example/cb')).code).toBe(0);
    const refused = await twofold('clients', 'rotate-secret', 'spa');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('is public: it has no secret to rotate');
    expect((await twofold('clients', 'remove', 'spa')).code).toBe(0);
  });

  it('add refuses a bad registration with a message and stores nothing', async () => {
    const refused = await twofold('clients', 'add', '--id', 'bad', '--redirect-uri', 'http://shop.example/callback');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('must be https');
    const listed = await twofold('clients', 'list', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });
});

describe('checkedClientRegistration()', () => {
  it('accepts https and loopback http redirect URIs', () => {
    expect(checkedClientRegistration('app-1', ['https://app.example/cb', 'http://127.0.0.1:8080/cb', 'http://localhost/cb']).redirectUris).toHaveLength(3);
  });

  it.each([
    ['bad id', ['https://app.example/cb']],
    ['app', []],
    ['app', ['not a url']],
    ['app', ['http://app.example/cb']],
    ['app', ['javascript:alert(1)']],
    ['app', ['https://app.example/cb#fragment']],
    ['app', ['https://user:pass@app.example/cb']],
  ])('refuses %j with %j', (clientId, uris) => {
    expect(() => checkedClientRegistration(clientId, uris)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
  });
});
