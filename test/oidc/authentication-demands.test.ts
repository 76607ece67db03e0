// What an authorization request demands of the sign-in is met by a factor, never by the parameter:
// prompt=login signs the person in again, max_age and acr_values=aal2 (or an essential acr claim)
// send them through a second factor, and prompt=none that cannot be met answers with the RFC error.
// openid-client is the relying party; the hosted pages are driven over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { totpCode, type SignedUp } from '../helpers/flow.js';
import type { ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { pkceAuthorization, startOidcTestbed } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://app.example/callback';

describe('OpenID Provider: authentication demands are met by a factor', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let config: client.Configuration;

  beforeAll(async () => {
    ({ t, user, config } = await startOidcTestbed({ clientId: 'demanding-app', redirectUris: [redirectUri] }));
  });
  afterAll(async () => t.close());

  async function authorization(params: Record<string, string> = {}) {
    const { url, verifier } = await pkceAuthorization(config, { redirect_uri: redirectUri, scope: 'openid', state: 'state-1', ...params });
    return { url, redeem: async (callback: URL) => (await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-1' })).claims()! };
  }

  /** From a sign-in form: password, then the authenticator app; where the browser lands. */
  async function passwordAndCode(browser: OidcBrowser, rememberBrowser = false): Promise<{ response: Response; url: string }> {
    const afterPassword = await browser.follow('/sign-in', { method: 'POST', form: { csrf: browser.csrf(), username: user.username, password: user.password } });
    expect(new URL(afterPassword.url).pathname).toBe('/sign-in/verify');
    t.clock.advanceSeconds(30);
    return browser.follow('/sign-in/verify', { method: 'POST', form: { csrf: browser.csrf(), code: totpCode(t, user.secret), ...(rememberBrowser ? { remember_device: '1' } : {}) } });
  }

  async function signedInBrowser(rememberBrowser = false): Promise<OidcBrowser> {
    const browser = new OidcBrowser(t.baseUrl);
    await browser.request('/sign-in');
    await passwordAndCode(browser, rememberBrowser);
    expect(browser.cookies.has('__Host-twofold-access')).toBe(true);
    return browser;
  }

  /** The step-up page the interaction sent the browser to: the authenticator app's code, then back. */
  async function stepUp(browser: OidcBrowser, at: string): Promise<string> {
    expect(new URL(at).pathname).toBe('/account/verify');
    const next = new URL(at).searchParams.get('next')!;
    expect(next).toMatch(/^\/oidc\/interaction\//);
    t.clock.advanceSeconds(30);
    const back = await browser.follow('/account/verify', { method: 'POST', form: { csrf: browser.csrf(), next, code: totpCode(t, user.secret) } });
    return back.url;
  }

  it('OP-03: prompt=login asks for the password and second factor again, and auth_time is the new sign-in', async () => {
    const browser = await signedInBrowser();
    const first = await authorization();
    const firstClaims = await first.redeem(new URL((await browser.follow(first.url.href)).url));

    t.clock.advanceSeconds(120);
    const again = await authorization({ prompt: 'login' });
    const signInPage = await browser.follow(again.url.href);
    expect(signInPage.url).toMatch(/\/sign-in\?again=1&return_to=/);
    expect(await signInPage.response.text()).toContain('name="password"');
    // Going back to the interaction without signing in again still does not return to the app.
    const interaction = decodeURIComponent(new URL(signInPage.url).searchParams.get('return_to')!);
    expect((await browser.follow(interaction)).url).toMatch(/\/sign-in\?again=1/);

    const back = await passwordAndCode(browser);
    const claims = await again.redeem(new URL(back.url));
    expect(claims.auth_time).toBeGreaterThan(firstClaims.auth_time! + 100);
    expect(claims.auth_time).toBe(Math.floor(t.clock.now() / 1000));
  });

  it('OP-03: max_age older than the sign-in sends the person through the second factor; auth_time says when', async () => {
    const browser = await signedInBrowser();
    const signedInAt = Math.floor(t.clock.now() / 1000);
    // Within max_age: straight back, with the sign-in's own auth_time.
    const fresh = await authorization({ max_age: '300' });
    expect((await fresh.redeem(new URL((await browser.follow(fresh.url.href)).url))).auth_time).toBe(signedInAt);

    t.clock.advanceSeconds(600);
    const stale = await authorization({ max_age: '300' });
    const detour = await browser.follow(stale.url.href);
    const claims = await stale.redeem(new URL(await stepUp(browser, detour.url)));
    expect(claims.auth_time).toBe(Math.floor(t.clock.now() / 1000));
    expect(claims.auth_time).toBeGreaterThan(signedInAt + 600);
  });

  it('OP-03: acr_values=aal2 or an essential acr claim is never satisfied by a remembered browser (aal1): a second factor first, then aal2', async () => {
    const remembered = await signedInBrowser(true);
    const device = [...remembered.cookies].find(([name]) => /device/.test(name));
    expect(device).toBeDefined();
    /** A new sign-in on the remembered browser, with the password only: the remembered browser stands in (aal1). */
    const aal1Browser = async () => {
      const browser = new OidcBrowser(t.baseUrl);
      browser.cookies.set(device![0], device![1]);
      await browser.request('/sign-in');
      const signedIn = await browser.follow('/sign-in', { method: 'POST', form: { csrf: browser.csrf(), username: user.username, password: user.password } });
      expect(new URL(signedIn.url).pathname).toBe('/account');
      return browser;
    };
    const browser = await aal1Browser();

    // Without a demand the ID token honestly says aal1.
    const plain = await authorization();
    expect((await plain.redeem(new URL((await browser.follow(plain.url.href)).url)))['acr']).toBe('aal1');

    // prompt=none cannot be met: the RFC error at the redirect URI, no code.
    const essentialAal2 = JSON.stringify({ id_token: { acr: { essential: true, values: ['aal2'] } } });
    for (const demand of [{ acr_values: 'aal2' }, { claims: essentialAal2 }] as Array<Record<string, string>>) {
      const silent = await authorization({ ...demand, prompt: 'none' });
      const refused = new URL((await browser.follow(silent.url.href)).url);
      expect(refused.origin + refused.pathname).toBe(redirectUri);
      expect(['interaction_required', 'login_required']).toContain(refused.searchParams.get('error'));
      expect(refused.searchParams.get('code')).toBeNull();
    }

    for (const params of [{ acr_values: 'aal2' } as Record<string, string>, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['aal2'] } } }) }]) {
      const demanding = await authorization(params);
      const aal1 = await aal1Browser();
      const detour = await aal1.follow(demanding.url.href);
      // Fails if the aal1 session were accepted: no step-up, straight to the app.
      expect(new URL(detour.url).pathname).toBe('/account/verify');
      const claims = await demanding.redeem(new URL(await stepUp(aal1, detour.url)));
      expect(claims['acr']).toBe('aal2');
    }
  });
  it('OP-03: every login at the provider is a security event naming the application and the Twofold session', async () => {
    const browser = await signedInBrowser();
    const { url, redeem } = await authorization();
    const claims = await redeem(new URL((await browser.follow(url.href)).url));
    await t.ctx.auditTrail.flush();
    const rows = await t.ctx.db.selectFrom('security_events').selectAll().where('user_id', '=', user.userId).where('type', '=', 'oidc.login').execute();
    const latest = rows.at(-1)!;
    expect(latest).toBeDefined();
    expect(JSON.parse(String(latest.details))).toMatchObject({ client_id: 'demanding-app', acr: claims['acr'] });
    expect(latest.session_id).toMatch(/\S/);
  });
  it('OP-03, OP-10: sid, when the claims parameter asks for it, is the Twofold session’s: the same for the next login in that browser', async () => {
    const browser = await signedInBrowser();
    const sidRequest = { claims: JSON.stringify({ id_token: { sid: null } }) };
    const first = await authorization(sidRequest);
    const firstSid = (await first.redeem(new URL((await browser.follow(first.url.href)).url)))['sid'];
    expect(firstSid).toMatch(/^[A-Za-z0-9_-]{10,}$/);
    const second = await authorization(sidRequest);
    expect((await second.redeem(new URL((await browser.follow(second.url.href)).url)))['sid']).toBe(firstSid);
  });
});
