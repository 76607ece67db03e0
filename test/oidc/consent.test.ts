// The consent page of a third-party client: Twofold's page, the client named by its name, id and
// the host it returns to, the scopes in words, Allow or Deny; its form carries the CSRF token
// (without it: refused), it is never framed, and its form may reach the client's redirect URI
// (Chromium checks form-action on the redirects after the POST). Allow gives the code and is
// remembered in the grant: the next authorization of that client does not ask again; Deny answers
// access_denied at the redirect URI; a first-party client is never asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { registerPublicOidcClient } from '../../src/oidc/clients.js';
import { chromiumAvailable, launchChromium, watchForViolations } from '../helpers/browser.js';
import { signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';
import { requirement } from '../helpers/requirements.js';

const redirectUri = 'https://third.example/callback';
const haveChromium = requirement('Chromium', chromiumAvailable, 'apt-get install -y chromium (Debian package; never a downloaded browser)');

describe('consent for third-party clients', () => {
  let t: ListeningTwofold;
  let user: SignedUp;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on' } });
    user = await signUp(t);
    await registerPublicOidcClient(t.ctx.db, { clientId: 'third-app', redirectUris: [redirectUri] });
    await registerPublicOidcClient(t.ctx.db, { clientId: 'own-app', redirectUris: [redirectUri], firstParty: true });
  });
  afterAll(async () => t.close());

  async function authorization(clientId: string, scope = 'openid email') {
    const config = await discoverAsClient(t, clientId);
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'state-consent' });
    return { url, redeem: (callback: URL) => client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-consent' }) };
  }

  /** A browser signed in at Twofold, stopped at the consent page of `clientId`. */
  async function atConsentPage(clientId: string): Promise<{ browser: OidcBrowser; page: { response: Response; url: string }; redeem: (callback: URL) => ReturnType<typeof client.authorizationCodeGrant> }> {
    // Signed in at Twofold through a first-party client, which is not asked.
    const browser = new OidcBrowser(t.baseUrl);
    await browser.signIn(t, user, (await authorization('own-app')).url);
    browser.consentAnswer = 'stop';
    const { url, redeem } = await authorization(clientId);
    const page = await browser.follow(url.href);
    expect(browser.isConsentPage(page.response, page.url)).toBe(true);
    return { browser, page, redeem };
  }

  it('OP-16: a third-party client gets Twofold’s consent page: its name, id and host, the scopes in words, never framed', async () => {
    const { page } = await atConsentPage('third-app');
    const body = await page.response.text();
    expect(page.response.headers.get('content-type')).toMatch(/text\/html/);
    expect(body).toContain('third-app');
    expect(body).toContain('third.example');
    expect(body).toContain('See your e-mail address');
    expect(body).toContain(user.username);
    expect(body).toMatch(/name="csrf" value="[A-Za-z0-9_-]{43}"/);
    expect(body).toContain('/assets/style.css');
    const policy = page.response.headers.get('content-security-policy')!;
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("form-action 'self' https://third.example");
    expect(policy).not.toContain('unsafe-inline');
    expect(page.response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('OP-16: a POST without the CSRF token, or with another one, is refused and decides nothing; Allow then gives the code', async () => {
    const { browser, page, redeem } = await atConsentPage('third-app');
    await page.response.text();
    const consentUrl = `${page.url}/consent`;
    for (const form of [{ decision: 'allow' }, { decision: 'allow', csrf: 'A'.repeat(43) }] as Array<Record<string, string>>) {
      const refused = await browser.request(consentUrl, { method: 'POST', form });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('location')).toBeNull();
    }
    // A made-up interaction, or no decision: a 400, never a 500, and still nothing decided.
    expect((await browser.request(`${t.baseUrl}/oidc/interaction/made-up/consent`, { method: 'POST', form: { csrf: browser.csrf(), decision: 'allow' } })).status).toBe(400);
    expect((await browser.request(consentUrl, { method: 'POST', form: { csrf: browser.csrf(), decision: 'maybe' } })).status).toBe(400);
    const allowed = await browser.follow(consentUrl, { method: 'POST', form: { csrf: browser.csrf(), decision: 'allow' } });
    const callback = new URL(allowed.url);
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    const tokens = await redeem(callback);
    expect(tokens.claims()!.sub).toBe(user.userId);
    expect(tokens.claims()!['email']).toBeUndefined(); // the ID token carries the scope's claims only at userinfo

    // Remembered in the grant: the next authorization of the same client goes straight back.
    browser.consentAnswer = 'stop';
    const next = await authorization('third-app');
    const again = await browser.follow(next.url.href);
    expect(again.url.startsWith(redirectUri)).toBe(true);
    expect((await next.redeem(new URL(again.url))).claims()!.aud).toBe('third-app');
  });

  it('OP-16: Deny answers access_denied at the redirect URI, with the state and the issuer, and no code', async () => {
    const { browser, page } = await atConsentPage('third-app');
    await page.response.text();
    const denied = await browser.follow(`${page.url}/consent`, { method: 'POST', form: { csrf: browser.csrf(), decision: 'deny' } });
    const callback = new URL(denied.url);
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe('state-consent');
    expect(callback.searchParams.get('iss')).toBe(t.baseUrl);
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it('OP-16: a request that leaves out the one registered redirect_uri gets the same page, naming that URI’s host', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    await browser.signIn(t, user, (await authorization('own-app')).url);
    browser.consentAnswer = 'stop';
    const { url } = await authorization('third-app');
    url.searchParams.delete('redirect_uri');
    const page = await browser.follow(url.href);
    expect(browser.isConsentPage(page.response, page.url)).toBe(true);
    expect(await page.response.text()).toContain('third.example');
    expect(page.response.headers.get('content-security-policy')).toContain("form-action 'self' https://third.example");
  });

  it('OP-16: a first-party client is never asked', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    browser.consentAnswer = 'stop';
    const { url, redeem } = await authorization('own-app');
    const callback = await browser.signIn(t, user, url);
    expect(browser.consentPages).toEqual([]);
    expect((await redeem(callback)).claims()!.aud).toBe('own-app');
  });

  it.runIf(haveChromium)('OP-16: in Chromium the consent page has no policy violations and Allow reaches the client with a code', async () => {
    const chromium = await launchChromium();
    try {
      const context = await chromium.newContext();
      const page = await context.newPage();
      const problems = watchForViolations(page);
      const { url } = await authorization('third-app', 'openid');
      await page.goto(url.href);
      await page.fill('#username', user.username);
      await page.fill('#password', user.password);
      await Promise.all([page.waitForURL(/\/sign-in\/verify/), page.press('#password', 'Enter')]);
      t.clock.advanceSeconds(30);
      await page.fill('#code', totpCode(t, user.secret));
      await Promise.all([page.waitForURL(/\/oidc\/interaction\//), page.press('#code', 'Enter')]);
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      expect(await page.title()).toMatch(/Allow third-app/);
      // The client's host does not resolve here: that the browser asked for it shows form-action let the redirect through.
      const [toClient] = await Promise.all([page.waitForRequest((request) => request.url().startsWith(redirectUri), { timeout: 10_000 }), page.getByRole('button', { name: 'Allow' }).click()]);
      expect(new URL(toClient.url()).searchParams.get('code')).toMatch(/\S/);
      expect(problems).toEqual([]);
    } finally {
      await chromium.close();
    }
  });
});
