// Sessions and RP-initiated logout at Twofold's OpenID Provider, with openid-client as the relying
// party and the browser over real HTTP: every ID token's sid is the Twofold session id, the one the
// revoked-sessions feed names once the session ends; /oidc/session/end shows Twofold's own
// confirmation page, redirects only to a registered post_logout_redirect_uri (with state), and
// signing out there ends the Twofold session too; staying signed in keeps it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { revokeSessionsInDatabase } from '../../src/flows/sessions/revoke-sessions.js';
import { checkedClientRegistration } from '../../src/oidc/clients.js';
import type { SignedUp } from '../helpers/flow.js';
import type { ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { startOidcTestbed } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://app.example/callback';
const postLogoutUri = 'https://app.example/signed-out';

describe('OpenID Provider: sid and RP-initiated logout', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let config: client.Configuration;

  beforeAll(async () => {
    ({ t, user, config } = await startOidcTestbed(checkedClientRegistration('logout-app', [redirectUri], { postLogoutRedirectUris: [postLogoutUri] })));
  });
  afterAll(async () => t.close());

  /** A login of the browser (through the sign-in when it has no Twofold session): the tokens and the browser's Twofold session id. */
  async function login(browser: OidcBrowser): Promise<{ tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers; twofoldSid: string }> {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'state-l' });
    const first = await browser.follow(url.href);
    const callback = first.url.startsWith(redirectUri) ? new URL(first.url) : await browser.signIn(t, user, url);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-l' });
    const access = browser.cookies.get('__Host-twofold-access');
    expect(access).toBeDefined();
    return { tokens, twofoldSid: String(decodeJwt(access!)['sid']) };
  }

  async function revokedSids(): Promise<string[]> {
    const feed = (await (await fetch(`${t.baseUrl}/v1/revoked-sessions`)).json()) as { sessions: Array<{ sid: string }> };
    return feed.sessions.map((session) => session.sid);
  }

  async function asksToSignIn(browser: OidcBrowser): Promise<boolean> {
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    return /\/sign-in\?return_to=/.test((await browser.follow(url.href)).url);
  }

  it('OP-10: every ID token carries sid, the Twofold session id: the same for the next login of that session, another for another browser; the feed names it once the session ends', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const first = await login(browser);
    expect(first.tokens.claims()!['sid']).toBe(first.twofoldSid);
    const second = await login(browser);
    expect(second.twofoldSid).toBe(first.twofoldSid);
    expect(second.tokens.claims()!['sid']).toBe(first.twofoldSid);
    // Asked for through the claims parameter, it is the same sid.
    const verifier = client.randomPKCECodeVerifier();
    const asked = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', claims: JSON.stringify({ id_token: { sid: null } }), code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'state-l' });
    const askedTokens = await client.authorizationCodeGrant(config, new URL((await browser.follow(asked.href)).url), { pkceCodeVerifier: verifier, expectedState: 'state-l' });
    expect(askedTokens.claims()!['sid']).toBe(first.twofoldSid);

    const other = await login(new OidcBrowser(t.baseUrl));
    expect(other.tokens.claims()!['sid']).toBe(other.twofoldSid);
    expect(other.twofoldSid).not.toBe(first.twofoldSid);

    expect(await revokedSids()).not.toContain(first.twofoldSid);
    const signedOut = await browser.request('/sign-out', { method: 'POST', form: { csrf: browser.csrf() } });
    expect(signedOut.status).toBe(303);
    expect(await revokedSids()).toContain(first.twofoldSid);
    expect(await revokedSids()).not.toContain(other.twofoldSid);
  });

  it('OP-12: a Twofold session revoked in the database alone (the work after it never ran) already refuses its app’s tokens', async () => {
    const { tokens, twofoldSid } = await login(new OidcBrowser(t.baseUrl));
    expect((await client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).sub).toBe(user.userId);
    await revokeSessionsInDatabase(t.ctx.db, [twofoldSid], 'logout', t.ctx.now());
    await expect(client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).rejects.toBeDefined();
  });

  it('OP-11: discovery offers the end-session endpoint and back-channel logout with sid', async () => {
    const metadata = config.serverMetadata();
    expect(metadata.end_session_endpoint).toBe(`${t.baseUrl}/oidc/session/end`);
    expect(metadata.backchannel_logout_supported).toBe(true);
    expect(metadata.backchannel_logout_session_supported).toBe(true);
  });

  it('OP-11: RP-initiated logout on Twofold’s page (strict CSP, the provider’s xsrf): signing out returns to the registered URI with state and ends the Twofold session and the app’s tokens', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const { tokens, twofoldSid } = await login(browser);
    const endSession = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: postLogoutUri, state: 'bye-1' });
    const page = await browser.request(endSession.href);
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('<link rel="stylesheet" href="/assets/style.css">');
    expect(body).toContain('Sign out of Twofold');
    expect(body).not.toMatch(/<script>|<style>|style="/);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toMatch(/form-action 'self'[^;]* https:\/\/app\.example/);
    expect(policy).not.toContain('unsafe-inline');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(body)?.[1];
    expect(xsrf).toBeDefined();

    // Without the provider's xsrf the logout is refused, and nothing ends.
    const forged = await browser.request('/oidc/session/end/confirm', { method: 'POST', form: { xsrf: 'forged', logout: 'yes' } });
    expect(forged.status).toBe(400);
    expect(forged.headers.get('location')).toBeNull();
    expect(await revokedSids()).not.toContain(twofoldSid);

    const confirmed = await browser.request('/oidc/session/end/confirm', { method: 'POST', form: { xsrf: xsrf!, logout: 'yes' } });
    expect(confirmed.status).toBe(303);
    const back = new URL(confirmed.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(postLogoutUri);
    expect(back.searchParams.get('state')).toBe('bye-1');
    expect(browser.cookies.has('__Host-twofold-access')).toBe(false);
    expect(browser.cookies.has('__Host-twofold-refresh')).toBe(false);
    expect(await revokedSids()).toContain(twofoldSid);
    await expect(client.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).rejects.toBeDefined();
    expect(await asksToSignIn(browser)).toBe(true);
  });

  it('OP-11: a browser whose access cookie has gone (only the refresh cookie left) is signed out of Twofold too', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const { tokens, twofoldSid } = await login(browser);
    const page = await browser.request(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: postLogoutUri }).href);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(await page.text())![1]!;
    browser.cookies.delete('__Host-twofold-access');
    expect(browser.cookies.has('__Host-twofold-refresh')).toBe(true);
    const confirmed = await browser.request('/oidc/session/end/confirm', { method: 'POST', form: { xsrf, logout: 'yes' } });
    expect(confirmed.status).toBe(303);
    expect(await revokedSids()).toContain(twofoldSid);
    expect(browser.cookies.has('__Host-twofold-refresh')).toBe(false);
    expect(await asksToSignIn(browser)).toBe(true);
  });

  it('OP-11: an unregistered post_logout_redirect_uri is refused with an error page, never redirected to; without a client it is ignored', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const { tokens, twofoldSid } = await login(browser);
    const attack = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://evil.example/phish', state: 'x' });
    const refused = await browser.request(attack.href);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('location')).toBeNull();
    expect(await refused.text()).toContain('post_logout_redirect_uri not registered');

    // No id_token_hint and no client_id: the URI is never used; the end is Twofold's own page.
    const anonymous = await browser.request(`/oidc/session/end?post_logout_redirect_uri=${encodeURIComponent('https://evil.example/phish')}`);
    expect(anonymous.status).toBe(200);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(await anonymous.text())![1]!;
    const confirmed = await browser.request('/oidc/session/end/confirm', { method: 'POST', form: { xsrf, logout: 'yes' } });
    expect(confirmed.status).toBe(303);
    const landing = new URL(confirmed.headers.get('location')!, t.baseUrl);
    expect(landing.origin).toBe(t.baseUrl);
    expect(landing.pathname).toBe('/oidc/session/end/success');
    const success = await browser.request(landing.href);
    expect(success.status).toBe(200);
    const successBody = await success.text();
    expect(successBody).toContain('You are signed out');
    expect(successBody).toContain('/assets/style.css');
    expect(await revokedSids()).toContain(twofoldSid);
  });

  it('OP-11: “Stay signed in” returns to the app but keeps the Twofold session: the next authorization needs no sign-in', async () => {
    const browser = new OidcBrowser(t.baseUrl);
    const { tokens, twofoldSid } = await login(browser);
    const page = await browser.request(client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: postLogoutUri, state: 'stay' }).href);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const stayed = await browser.request('/oidc/session/end/confirm', { method: 'POST', form: { xsrf } });
    expect(stayed.status).toBe(303);
    expect(new URL(stayed.headers.get('location')!).searchParams.get('state')).toBe('stay');
    expect(await revokedSids()).not.toContain(twofoldSid);
    expect(browser.cookies.has('__Host-twofold-access')).toBe(true);
    const again = await login(browser);
    expect(again.twofoldSid).toBe(twofoldSid);
    expect(again.tokens.claims()!['sid']).toBe(twofoldSid);
  });
});
