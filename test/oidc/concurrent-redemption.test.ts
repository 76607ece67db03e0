// A code redeemed by many requests at once: the provider's own replay check reads the code before
// it writes, so every concurrent redemption would read it unused. The adapter's conditional
// consume decides: one wins, the others are replays — invalid_grant, and the grant revoked, as a
// replay that came later would have it (OP-02). Runs on SQLite and on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as client from 'openid-client';
import type { SignedUp } from '../helpers/flow.js';
import type { ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { pkceAuthorization, startOidcTestbed } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://race.example/callback';

describe('a code redeemed by many requests at once', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let config: client.Configuration;

  beforeAll(async () => {
    ({ t, user, config } = await startOidcTestbed({ clientId: 'race-app', redirectUris: [redirectUri] }));
  });
  afterAll(async () => t.close());

  it('OP-02: 30 parallel redemptions of one code → exactly one 200, the rest invalid_grant (never a 500), and the grant revoked', async () => {
    const { url, verifier } = await pkceAuthorization(config, { redirect_uri: redirectUri, scope: 'openid', state: 'race' });
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
