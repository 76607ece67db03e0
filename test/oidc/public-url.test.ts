// The provider knows itself only by TWOFOLD_PUBLIC_URL (OP-21): the Host and X-Forwarded-* headers a
// client sends never reach a Location it answers with, and behind a proxy that ends TLS (the
// server itself sees plain HTTP) its cookies are still Secure when the public URL is https.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerPublicOidcClient } from '../../src/oidc/clients.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const publicUrl = 'https://login.example.com';
const redirectUri = 'https://app.example/callback';

describe('the provider behind hostile headers', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_OIDC: 'on', TWOFOLD_PUBLIC_URL: publicUrl } });
    await registerPublicOidcClient(t.twofold.context.db, { clientId: 'headers-app', redirectUris: [redirectUri] });
  });
  afterAll(async () => {
    await t.app.close();
    await t.twofold.close();
  });

  const authorize = (headers: Record<string, string>) =>
    t.app.inject({
      method: 'GET',
      url: `/oidc/auth?${new URLSearchParams({ client_id: 'headers-app', redirect_uri: redirectUri, response_type: 'code', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`,
      headers,
    });

  it('OP-21: a made-up Host, X-Forwarded-Host or X-Forwarded-Proto never reaches the Location; the public URL does', async () => {
    const answer = await authorize({ host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http', forwarded: 'host=evil.example' });
    expect(answer.statusCode).toBe(303);
    const location = String(answer.headers.location);
    expect(location).not.toContain('evil');
    expect(new URL(location, publicUrl).origin).toBe(publicUrl);
  });

  it('OP-21: with an https public URL, the provider’s cookies are Secure although this server speaks plain HTTP', async () => {
    const answer = await authorize({ host: 'evil.example' });
    const cookies = ([] as string[]).concat(answer.headers['set-cookie'] ?? []);
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie).toMatch(/;\s*secure/i);
  });
});
