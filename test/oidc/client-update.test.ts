// `twofold clients update` changes a client in place and keeps its sealed secret; a client
// registered with a required acr of aal2 sends a remembered browser (aal1) through a second factor
// on every login, while a client that accepts aal1 (the default) is answered with aal1, honestly;
// `--dpop` makes a client's tokens DPoP-bound only (RFC 9449 dpop_bound_access_tokens).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { updateOidcClient } from '../../src/oidc/client-update.js';
import { registerConfidentialOidcClient, registerPublicOidcClient } from '../../src/oidc/clients.js';
import { createDpopTestKey, makeDpopProof } from '../helpers/dpop-proofs.js';
import { signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';
import { runCommand } from '../helpers/process.js';
import { testEnvironment } from '../helpers/twofold.js';

const redirectUri = 'https://app.example/callback';

describe('twofold clients update', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-oidc-update-'));
  const env = testEnvironment(dataDir, { TWOFOLD_LOG_LEVEL: 'warn', TWOFOLD_OIDC: 'on' });
  const twofold = (...args: string[]) => runCommand(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], env);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('OP-13: update changes redirect URIs, first-party, required acr and PAR, and keeps the confidential client’s secret', async () => {
    const added = await twofold('clients', 'add', '--id', 'backend', '--redirect-uri', 'https://backend.example/cb', '--confidential', '--first-party', '--json');
    expect(added.code, added.stderr).toBe(0);
    const { client_secret: secret } = JSON.parse(added.stdout) as { client_secret: string };

    const updated = await twofold('clients', 'update', 'backend', '--redirect-uri', 'https://backend.example/new', '--no-first-party', '--require-acr', 'aal2', '--require-par', '--subject-type', 'pairwise', '--json');
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).not.toContain(secret);
    expect(JSON.parse(updated.stdout)).toMatchObject({ client_id: 'backend', redirect_uris: ['https://backend.example/new'], first_party: false, required_acr: 'aal2', require_par: true, subject_type: 'pairwise', token_endpoint_auth_method: 'client_secret_basic' });

    // The secret printed by add still opens: the sealed secret was kept, not replaced.
    const t = await startListeningTwofold({ dataDir, env: { TWOFOLD_OIDC: 'on' } });
    try {
      const par = await fetch(`${t.baseUrl}/oidc/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`backend:${secret}`).toString('base64')}` },
        body: new URLSearchParams({ client_id: 'backend', redirect_uri: 'https://backend.example/new', response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString(),
      });
      expect(par.status).toBe(201);
      const wrong = await fetch(`${t.baseUrl}/oidc/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('backend:not-the-secret').toString('base64')}` },
        body: new URLSearchParams({ client_id: 'backend', redirect_uri: 'https://backend.example/new', response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString(),
      });
      expect(wrong.status).toBe(401);
    } finally {
      await t.close();
    }

    const switchedBack = await twofold('clients', 'update', 'backend', '--no-require-par', '--require-acr', 'aal1', '--json');
    expect(JSON.parse(switchedBack.stdout)).toMatchObject({ require_par: false, required_acr: 'aal1', redirect_uris: ['https://backend.example/new'] });
  });

  it.each([
    [['update', 'nobody', '--require-acr', 'aal2'], 'no client "nobody"'],
    [['update', 'backend', '--redirect-uri', 'http://backend.example/cb'], 'must be https'],
    [['update', 'backend', '--require-acr', 'aal3'], 'aal3'],
  ])('OP-13: update with %j is refused with a message and changes nothing', async (args, message) => {
    const before = (await twofold('clients', 'show', 'backend', '--json')).stdout;
    const refused = await twofold('clients', ...args);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(message);
    expect((await twofold('clients', 'show', 'backend', '--json')).stdout).toBe(before);
  });
});

describe('a client that requires aal2', () => {
  let t: ListeningTwofold;
  let user: SignedUp;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on' } });
    user = await signUp(t);
    await registerPublicOidcClient(t.ctx.db, { clientId: 'relaxed-app', redirectUris: [redirectUri], firstParty: true });
    await registerPublicOidcClient(t.ctx.db, { clientId: 'strict-app', redirectUris: [redirectUri], firstParty: true, options: { requiredAcr: 'aal2' } });
  });
  afterAll(async () => t.close());

  async function authorization(clientId: string) {
    const config = await discoverAsClient(t, clientId);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
    return { url, redeem: async (callback: string) => (await client.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: 's' })).claims()! };
  }

  /** A browser remembered after a full sign-in, then signed in again with the password only: aal1. */
  async function rememberedBrowser(): Promise<OidcBrowser> {
    const first = new OidcBrowser(t.baseUrl);
    await first.request('/sign-in');
    await first.follow('/sign-in', { method: 'POST', form: { csrf: first.csrf(), username: user.username, password: user.password } });
    t.clock.advanceSeconds(30);
    await first.follow('/sign-in/verify', { method: 'POST', form: { csrf: first.csrf(), code: totpCode(t, user.secret), remember_device: '1' } });
    const device = [...first.cookies].find(([name]) => /device/.test(name))!;
    const browser = new OidcBrowser(t.baseUrl);
    browser.cookies.set(device[0], device[1]);
    await browser.request('/sign-in');
    const signedIn = await browser.follow('/sign-in', { method: 'POST', form: { csrf: browser.csrf(), username: user.username, password: user.password } });
    expect(new URL(signedIn.url).pathname).toBe('/account');
    return browser;
  }

  it('OP-13: a remembered browser (aal1) is accepted where the client accepts aal1, and stepped up to aal2 where the client requires it', async () => {
    const browser = await rememberedBrowser();
    const relaxed = await authorization('relaxed-app');
    expect((await relaxed.redeem((await browser.follow(relaxed.url.href)).url))['acr']).toBe('aal1');

    const strict = await authorization('strict-app');
    const detour = await browser.follow(strict.url.href);
    // Fails if the client's requirement were ignored: the aal1 session would go straight back to the app.
    expect(new URL(detour.url).pathname).toBe('/account/verify');
    const next = new URL(detour.url).searchParams.get('next')!;
    t.clock.advanceSeconds(30);
    const back = await browser.follow('/account/verify', { method: 'POST', form: { csrf: browser.csrf(), next, code: totpCode(t, user.secret) } });
    expect((await strict.redeem(back.url))['acr']).toBe('aal2');
  });

  it('OP-13: updateOidcClient keeps the sealed secret byte for byte', async () => {
    await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, { clientId: 'kept-secret', redirectUris: [redirectUri] });
    const sealed = async () => JSON.parse((await t.ctx.db.selectFrom('oidc_payloads').select('payload').where('kind', '=', 'Client').where('id', '=', 'kept-secret').executeTakeFirstOrThrow()).payload)['twofold_client_secret_sealed'];
    const before = await sealed();
    const summary = await updateOidcClient(t.ctx.db, 'kept-secret', { postLogoutRedirectUris: ['https://app.example/bye'], options: { requiredAcr: 'aal2' } });
    expect(summary.postLogoutRedirectUris).toEqual(['https://app.example/bye']);
    expect(summary.options.requiredAcr).toBe('aal2');
    expect(await sealed()).toBe(before);
  });
});

describe('twofold clients add|update --dpop', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-oidc-dpop-'));
  const env = testEnvironment(dataDir, { TWOFOLD_LOG_LEVEL: 'warn', TWOFOLD_OIDC: 'on' });
  const twofold = (...args: string[]) => runCommand(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], env);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('DP-37: add --dpop registers dpop_bound_access_tokens, list and show say so, update --no-dpop clears it', async () => {
    const added = await twofold('clients', 'add', '--id', 'bound-app', '--redirect-uri', redirectUri, '--dpop', '--json');
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ client_id: 'bound-app', dpop: true });
    const listed = await twofold('clients', 'list');
    expect(listed.stdout).toMatch(/dpop/);
    expect(JSON.parse((await twofold('clients', 'show', 'bound-app', '--json')).stdout)).toMatchObject({ dpop: true });
    const cleared = await twofold('clients', 'update', 'bound-app', '--no-dpop', '--json');
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ dpop: false });
    const again = await twofold('clients', 'update', 'bound-app', '--dpop', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ dpop: true, redirect_uris: [redirectUri] });
  });

  it('DP-37: a --service --dpop client is refused a token without a proof (invalid_dpop_proof) and gets a DPoP token with one', async () => {
    const added = await twofold('clients', 'add', '--service', '--id', 'bound-service', '--dpop', '--json');
    expect(added.code, added.stderr).toBe(0);
    const { client_secret: secret, dpop } = JSON.parse(added.stdout) as { client_secret: string; dpop: boolean };
    expect(dpop).toBe(true);
    const t = await startListeningTwofold({ dataDir, env: { TWOFOLD_OIDC: 'on' } });
    try {
      const request = (headers: Record<string, string>) =>
        fetch(`${t.baseUrl}/oidc/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`bound-service:${secret}`).toString('base64')}`, ...headers },
          body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
        });
      const bare = await request({});
      expect(bare.status).toBe(400);
      expect(((await bare.json()) as { error: string }).error).toBe('invalid_dpop_proof');
      const key = await createDpopTestKey('EdDSA');
      const proof = await makeDpopProof({ key, htm: 'POST', htu: `${t.baseUrl}/oidc/token`, iat: Math.floor(Date.now() / 1000) });
      const bound = await request({ dpop: proof });
      const body = (await bound.json()) as Record<string, unknown>;
      expect(bound.status, JSON.stringify(body)).toBe(200);
      expect(body['token_type']).toBe('DPoP');
    } finally {
      await t.close();
    }
  });
});
