// An application's login through the OpenID Provider, finished with a passkey alone on the hosted
// sign-in page: the provider sends the browser to /sign-in?return_to=/oidc/interaction/…, the page's
// passkey sign-in (options as JSON, the answer as a form) returns there, and the application gets a
// code whose ID token says what was proven — aal2, a passkey and "mfa", no password.
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { pkceAuthorization, startOidcTestbed } from '../helpers/oidc-relying-party.js';
import { httpPost, signUpWithPasskey, type PasskeyAccount } from '../helpers/passkey-sign-in.js';

const redirectUri = 'https://own-app.example/callback';

describe('an OpenID Provider login finished with a passkey alone on the sign-in page', () => {
  let t: ListeningTwofold;
  let config: client.Configuration;
  let account: PasskeyAccount;

  beforeAll(async () => {
    ({ t, config } = await startOidcTestbed({ clientId: 'own-app', redirectUris: [redirectUri], firstParty: true }));
    account = await signUpWithPasskey(httpPost(t.baseUrl), { rpId: new URL(t.baseUrl).hostname, origin: t.baseUrl });
  });
  afterAll(async () => t?.close());

  /** Authorizes with `parameters` and answers the sign-in page with the account's passkey; returns the callback and the verifier. */
  async function signInWithPasskeyAlone(parameters: Record<string, string>): Promise<{ callback: URL; verifier: string; requested: string[] }> {
    const browser = new OidcBrowser(t.baseUrl);
    const { url, verifier } = await pkceAuthorization(config, { redirect_uri: redirectUri, scope: 'openid', ...parameters });
    const signInPage = await browser.follow(url.href);
    await signInPage.response.body?.cancel();
    const options = (await (await browser.request('/sign-in/passkey/options', { method: 'POST', json: { csrf: browser.csrf() } })).json()) as { challenge_id: string; options: Parameters<typeof account.authenticator.authenticate>[0] };
    const credential = account.authenticator.authenticate(options.options);
    const back = await browser.follow('/sign-in/passkey', { method: 'POST', form: { csrf: browser.csrf(), challenge_id: options.challenge_id, credential: JSON.stringify(credential) } });
    return { callback: new URL(back.url), verifier, requested: browser.requested };
  }

  it('OP-22: acr_values=phr is met by the passkey sign-in itself — no step-up, and the ID token says phr', async () => {
    const { callback, verifier, requested } = await signInWithPasskeyAlone({ acr_values: 'phr' });
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    expect(requested.some((path) => path.startsWith('/account/verify'))).toBe(false);
    const claims = (await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier })).claims()!;
    expect(claims['acr']).toBe('phr');
    expect(claims['amr']).toEqual(['swk', 'mfa']);
  });

  it('PP-01: the passkey sign-in returns to the interaction, and the application gets an ID token with acr aal2 and amr ["swk", "mfa"]', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const { url, verifier } = await pkceAuthorization(config, { redirect_uri: redirectUri, scope: 'openid' });
    const signInPage = await browser.follow(url.href);
    expect(signInPage.url).toMatch(/\/sign-in\?return_to=%2Foidc%2Finteraction%2F/);
    await signInPage.response.body?.cancel();

    const optionsResponse = await browser.request('/sign-in/passkey/options', { method: 'POST', json: { csrf: browser.csrf() } });
    expect(optionsResponse.status).toBe(200);
    const options = (await optionsResponse.json()) as { challenge_id: string; options: Parameters<typeof account.authenticator.authenticate>[0] };
    const credential = account.authenticator.authenticate(options.options);
    const back = await browser.follow('/sign-in/passkey', { method: 'POST', form: { csrf: browser.csrf(), challenge_id: options.challenge_id, credential: JSON.stringify(credential) } });
    expect(browser.requested).toContain('/sign-in/passkey');
    expect(browser.requested.some((path) => path.startsWith('/oidc/interaction/'))).toBe(true);
    const callback = new URL(back.url);
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(account.userId);
    expect(claims['acr']).toBe('aal2');
    expect(claims['amr']).toEqual(['swk', 'mfa']);
  });
});
