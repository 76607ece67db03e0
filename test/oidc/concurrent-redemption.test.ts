// A code redeemed by many requests at once: the provider's own replay check reads the code before
// it writes, so every concurrent redemption would read it unused. The adapter's conditional
// consume decides: one wins, the others are replays — invalid_grant, and the grant revoked, as a
// replay that came later would have it (OP-02). Runs on SQLite and on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { registerPublicOidcClient } from '../../src/oidc/clients.js';
import { signUp, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://race.example/callback';

describe('a code redeemed by many requests at once', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let config: client.Configuration;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on' } });
    user = await signUp(t);
    await registerPublicOidcClient(t.ctx.db, { clientId: 'race-app', redirectUris: [redirectUri] });
    config = await discoverAsClient(t, 'race-app');
  });
  afterAll(async () => t.close());

  it('OP-02: 30 parallel redemptions of one code → exactly one 200, the rest invalid_grant (never a 500), and the grant revoked', async () => {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'race',
    });
    const callback = await new OidcBrowser(t.baseUrl).signIn(t, user, url);
    const code = callback.searchParams.get('code')!;
    const redeem = () =>
      fetch(`${t.baseUrl}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_id: 'race-app' }).toString(),
      });

    const answers = await Promise.all(Array.from({ length: 30 }, redeem));
    const bodies = await Promise.all(answers.map(async (answer) => ({ status: answer.status, body: (await answer.json()) as Record<string, string> })));

    const won = bodies.filter((answer) => answer.status === 200);
    expect(won).toHaveLength(1);
    const lost = bodies.filter((answer) => answer.status !== 200);
    expect(lost.map((answer) => [answer.status, answer.body['error']])).toEqual(Array.from({ length: 29 }, () => [400, 'invalid_grant']));
    // The winner's access token went with its revoked grant.
    const userinfo = await fetch(`${t.baseUrl}/oidc/me`, { headers: { authorization: `Bearer ${won[0]!.body['access_token']}` } });
    expect(userinfo.status).toBe(401);
  });
});
