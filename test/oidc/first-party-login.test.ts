// A first-party client's consent comes with the login (src/oidc/first-party-grant.ts): one
// interaction per authorization instead of two, the grant of the Twofold session reused on the next
// authorization (not a new one each time), and what the login does not grant — offline_access with
// prompt=consent — still goes through the consent step. A third-party client is unaffected (consent.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import type { SignedUp } from '../helpers/flow.js';
import type { ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { pkceAuthorization, startOidcTestbed } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://own-app.example/callback';

describe('a first-party client’s login', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let config: client.Configuration;

  beforeAll(async () => {
    ({ t, user, config } = await startOidcTestbed({ clientId: 'own-app', redirectUris: [redirectUri], firstParty: true, refreshTokens: true }));
  });
  afterAll(async () => t.close());

  const authorization = (extra: Record<string, string> = {}) => pkceAuthorization(config, { redirect_uri: redirectUri, scope: 'openid email', ...extra });
  const interactions = (browser: OidcBrowser) => new Set(browser.requested.filter((path) => path.startsWith('/oidc/interaction/')));
  const grantsOfClient = async () => (await t.ctx.db.selectFrom('oidc_payloads').select('payload').where('kind', '=', 'Grant').execute()).filter((row) => row.payload.includes('"own-app"')).length;

  it('OP-16: one interaction per authorization (consent comes with the login), the scopes granted, and the next authorization reuses the grant', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const first = await authorization();
    const callback = await browser.signIn(t, user, first.url);
    expect(interactions(browser).size).toBe(1);
    expect(browser.consentPages).toEqual([]);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: first.verifier });
    expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid']);
    expect(tokens.claims()?.['email']).toBeUndefined(); // the user has no e-mail address; the scope was granted
    const grantsAfterFirst = await grantsOfClient();

    const second = await authorization();
    const before = browser.requested.length;
    const back = await browser.follow(second.url.href);
    expect(new URL(back.url).searchParams.has('code')).toBe(true);
    expect(new Set(browser.requested.slice(before).filter((path) => path.startsWith('/oidc/interaction/'))).size).toBe(1);
    expect(await grantsOfClient()).toBe(grantsAfterFirst);
  });

  it('OP-16: offline_access with prompt=consent still goes through the consent step (granted at once to a first-party client) and gives a refresh token', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const { url, verifier } = await authorization({ scope: 'openid offline_access', prompt: 'consent' });
    const callback = await browser.signIn(t, user, url);
    expect(interactions(browser).size).toBe(2);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
    expect(typeof tokens.refresh_token).toBe('string');
  });
});
