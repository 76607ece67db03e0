// The OpenID Provider under attack (OP-01, OP-02, OP-05, OP-06, OP-07, OP-08, OP-11, OP-16, OP-19, OP-21):
// a listening Twofold with TWOFOLD_OIDC=on, attacked the way a hostile relying party, a phishing
// page or a stolen token would — unknown clients, redirect URIs that are not registered, codes
// without their PKCE verifier or in the wrong client's hands, replays, mix-up, forged request
// objects, logout as an open redirect, framing, consent without its CSRF token, hostile headers and a
// flood of wrong secrets. Every attack must meet the RFC's refusal (its status and `error` code,
// JSON at the token endpoint) and never a 500, a stack trace or a redirect to the attacker; where a
// refusal could be the harness being broken, the same request done right is shown to work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, SignJWT } from 'jose';
import * as client from 'openid-client';
import { checkedClientRegistration, registerPublicOidcClient, registerServiceOidcClient } from '../../src/oidc/clients.js';
import { signUp, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { authorizationCallback, oidcLogin } from '../helpers/oidc-login.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://app.example/callback';
const otherRedirectUri = 'https://other.example/callback';
const thirdPartyRedirectUri = 'https://third.example/callback';
const postLogoutUri = 'https://app.example/signed-out';
const otherPostLogoutUri = 'https://other.example/signed-out';
const ordersApi = 'https://orders.example/api';
const reportsApi = 'https://reports.example/';

/** What no error answer may carry: a stack trace, a server's HTML error dump, a file path. */
const leakPattern = /\n\s+at \S|\bat [^\s]+ \(.*:\d+:\d+\)|node_modules|\/src\/|<pre>|Internal Server Error/i;

interface Answer {
  status: number;
  contentType: string;
  location: string | null;
  text: string;
  body: Record<string, unknown>;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // An HTML page: its text is looked at instead.
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', location: response.headers.get('location'), text, body };
}

/** The RFC 6749 error response of a token-style endpoint: the status, the error code, JSON, nothing leaked. */
function expectOAuthError(answer: Answer, status: number, error: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.contentType).toMatch(/^application\/json/);
  expect(answer.body['error']).toBe(error);
  expect(answer.text).not.toMatch(leakPattern);
  expect(answer.text).not.toMatch(/"access_token"|"id_token"|"refresh_token"/);
}

/** An error page of the provider: shown here (never a redirect), no stack trace. */
function expectErrorPage(answer: Answer, status = 400): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.location).toBeNull();
  expect(answer.text).not.toMatch(leakPattern);
}

describe('attacks on the OpenID Provider', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let browser: OidcBrowser;
  let config: client.Configuration;
  let otherConfig: client.Configuration;
  let serviceSecret: string;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on', TWOFOLD_OIDC_RESOURCES: `${ordersApi} orders:read, ${reportsApi} reports:read` } });
    user = await signUp(t);
    browser = new OidcBrowser(t.baseUrl);
    await registerPublicOidcClient(t.ctx.db, checkedClientRegistration('victim-app', [redirectUri], { postLogoutRedirectUris: [postLogoutUri], refreshTokens: true, firstParty: true }));
    await registerPublicOidcClient(t.ctx.db, checkedClientRegistration('attacker-app', [otherRedirectUri], { postLogoutRedirectUris: [otherPostLogoutUri], refreshTokens: true, firstParty: true }));
    await registerPublicOidcClient(t.ctx.db, { clientId: 'third-party-app', redirectUris: [thirdPartyRedirectUri], firstParty: false });
    serviceSecret = await registerServiceOidcClient(t.ctx.db, t.ctx.secretBox, 'reporting');
    config = await discoverAsClient(t, 'victim-app');
    otherConfig = await discoverAsClient(t, 'attacker-app');
  });
  afterAll(async () => t.close());

  async function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
    return answerOf(
      await fetch(`${t.baseUrl}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form).toString(),
      }),
    );
  }

  /** A fresh code of victim-app for the signed-in browser, with its verifier. */
  async function victimCode(): Promise<{ callback: URL; code: string; verifier: string }> {
    const verifier = client.randomPKCECodeVerifier();
    const callback = await authorizationCallback(t, browser, user, config, { redirectUri, scope: 'openid', verifier });
    return { callback, code: callback.searchParams.get('code')!, verifier };
  }

  async function victimAuthorizationUrl(overrides: Record<string, string> = {}): Promise<URL> {
    return client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: 'state-a',
      ...overrides,
    });
  }

  const userinfo = async (authorization: string) => answerOf(await fetch(`${t.baseUrl}/oidc/me`, { headers: { authorization } }));

  function expectInvalidTokenAtUserinfo(answer: Answer): void {
    expect(answer.status, answer.text).toBe(401);
    expect(answer.body['error']).toBe('invalid_token');
    expect(answer.text).not.toMatch(leakPattern);
    expect(answer.text).not.toContain(user.userId);
  }

  it('OP-01: an unknown client_id at the authorization endpoint gets an error page, never a redirect; at the token endpoint 401 invalid_client', async () => {
    const url = await victimAuthorizationUrl({ client_id: 'no-such-client' });
    const page = await answerOf(await fetch(url, { redirect: 'manual' }));
    expectErrorPage(page);
    expect(page.text).toContain('invalid_client');

    const token = await tokenRequest({ grant_type: 'authorization_code', client_id: 'no-such-client', code: 'made-up', redirect_uri: redirectUri, code_verifier: client.randomPKCECodeVerifier() });
    expectOAuthError(token, 401, 'invalid_client');
  });

  it('OP-01: a redirect_uri that is not registered is shown on an error page, never redirected to', async () => {
    for (const attempt of ['https://evil.example/callback', `${redirectUri}/../evil`, `${redirectUri}?next=https://evil.example`, 'https://app.example.evil.example/callback', `${redirectUri}#x`]) {
      const url = await victimAuthorizationUrl({ redirect_uri: attempt });
      const answer = await browser.request(url.href);
      const page = await answerOf(answer);
      expectErrorPage(page);
      expect(page.text).toContain('redirect_uri');
    }
  });

  it('OP-01: at the token endpoint a code without its verifier, with the challenge sent back as a plain verifier, or with a wrong verifier is invalid_grant; the right one still works', async () => {
    const { callback, code, verifier } = await victimCode();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    const base = { grant_type: 'authorization_code', client_id: 'victim-app', code, redirect_uri: redirectUri };
    expectOAuthError(await tokenRequest(base), 400, 'invalid_grant');
    expectOAuthError(await tokenRequest({ ...base, code_verifier: challenge }), 400, 'invalid_grant');
    expectOAuthError(await tokenRequest({ ...base, code_verifier: client.randomPKCECodeVerifier() }), 400, 'invalid_grant');
    // A verifier that is not of PKCE's form (too short) is a malformed request, not a 500.
    const malformed = await tokenRequest({ ...base, code_verifier: 'short' });
    expect(malformed.status).toBe(400);
    expect(['invalid_request', 'invalid_grant']).toContain(malformed.body['error']);

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-t' });
    expect(tokens.claims()!.sub).toBe(user.userId);
  });

  it('OP-02: a replayed code is invalid_grant and revokes the tokens the first exchange gave', async () => {
    const { callback, verifier } = await victimCode();
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-t' });
    expect((await userinfo(`Bearer ${tokens.access_token}`)).status).toBe(200);

    const replay = await tokenRequest({ grant_type: 'authorization_code', client_id: 'victim-app', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier });
    expectOAuthError(replay, 400, 'invalid_grant');
    expectInvalidTokenAtUserinfo(await userinfo(`Bearer ${tokens.access_token}`));
  });

  it('OP-01: a code issued to one client, redeemed by another (with the right verifier and redirect URI), is invalid_grant; its own client still redeems it', async () => {
    const { callback, code, verifier } = await victimCode();
    for (const redirect of [redirectUri, otherRedirectUri]) {
      const stolen = await tokenRequest({ grant_type: 'authorization_code', client_id: 'attacker-app', code, redirect_uri: redirect, code_verifier: verifier });
      expectOAuthError(stolen, 400, 'invalid_grant');
    }
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-t' });
    expect(tokens.claims()!.aud).toBe('victim-app');
  });

  it('OP-01: mix-up — the authorization response names the issuer (RFC 9207), and a client expecting another issuer refuses it before redeeming', async () => {
    const { callback, verifier } = await victimCode();
    expect(callback.searchParams.get('iss')).toBe(t.baseUrl);

    // The relying party believes this response came from another provider it uses.
    const metadata = (await (await fetch(`${t.baseUrl}/.well-known/openid-configuration`)).json()) as client.ServerMetadata;
    const otherProvider = new client.Configuration({ ...metadata, issuer: 'https://other-provider.example' }, 'victim-app', {}, client.None());
    client.allowInsecureRequests(otherProvider);
    const mixedUp = await client.authorizationCodeGrant(otherProvider, callback, { pkceCodeVerifier: verifier, expectedState: 'state-t' }).catch((error: unknown) => error);
    expect(mixedUp).toMatchObject({ code: 'OAUTH_INVALID_RESPONSE' });
    expect(String((mixedUp as { cause?: { message?: string } }).cause?.message)).toMatch(/unexpected "iss"/);

    // The code was never sent: the client expecting this issuer still redeems it.
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-t' });
    expect(tokens.claims()!.iss).toBe(t.baseUrl);
  });

  it('OP-19: a request object — unsigned (alg none) or signed with a key the client never registered — is refused (request_not_supported), never obeyed: no code, no redirect to the URI inside it', async () => {
    const claims = { client_id: 'victim-app', response_type: 'code', scope: 'openid', redirect_uri: 'https://evil.example/callback', iss: 'victim-app', aud: t.baseUrl };
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
    const { privateKey } = await generateKeyPair('ES256');
    const wrongKey = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'attacker' }).setIssuedAt().setExpirationTime('5m').sign(privateKey);

    for (const request of [unsigned, wrongKey]) {
      const answer = await browser.follow((await victimAuthorizationUrl({ request })).href);
      const callback = new URL(answer.url);
      expect(callback.origin + callback.pathname).toBe(redirectUri);
      expect(['request_not_supported', 'invalid_request_object']).toContain(callback.searchParams.get('error'));
      expect(callback.searchParams.get('code')).toBeNull();
      expect(answer.url).not.toContain('evil.example');
    }
  });

  it('OP-11: logout is no open redirect — an unregistered post_logout_redirect_uri, or another client’s URI reached with this client’s id_token_hint, is an error page without a Location', async () => {
    const tokens = await oidcLogin(t, browser, user, config, { redirectUri, scope: 'openid' });
    const idToken = tokens.id_token!;
    const endSession = (params: Record<string, string>) => browser.request(`/oidc/session/end?${new URLSearchParams(params)}`);

    const attempts: Array<Record<string, string>> = [
      { id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/phish', state: 's' },
      { client_id: 'victim-app', post_logout_redirect_uri: 'https://evil.example/phish' },
      // The URI another client registered, reached through the victim's id_token_hint.
      { id_token_hint: idToken, post_logout_redirect_uri: otherPostLogoutUri },
      // A registered client_id, but the id_token_hint of another client.
      { client_id: 'attacker-app', id_token_hint: idToken, post_logout_redirect_uri: otherPostLogoutUri },
    ];
    for (const params of attempts) {
      const refused = await answerOf(await endSession(params));
      expectErrorPage(refused);
      expect(refused.text).not.toMatch(/name="xsrf"/);
    }
    // Control: the registered URI with its own client's hint gets the confirmation page.
    const allowed = await answerOf(await endSession({ id_token_hint: idToken, post_logout_redirect_uri: postLogoutUri }));
    expect(allowed.status).toBe(200);
    expect(allowed.text).toMatch(/name="xsrf"/);
  });

  it('OP-16: clickjacking — the consent page, the interaction and the sign-in pages are never framed (frame-ancestors none, X-Frame-Options DENY)', async () => {
    const fresh = new OidcBrowser(t.baseUrl);
    const expectNeverFramed = (response: Response, where: string) => {
      expect(response.headers.get('x-frame-options'), where).toBe('DENY');
      expect(response.headers.get('content-security-policy'), where).toContain("frame-ancestors 'none'");
    };
    const interaction = await fresh.request((await victimAuthorizationUrl()).href);
    expect(interaction.status).toBe(303);
    const interactionUrl = new URL(interaction.headers.get('location')!, t.baseUrl).href;
    const toSignIn = await fresh.request(interactionUrl);
    expectNeverFramed(toSignIn, 'interaction');
    const signInPage = await fresh.request(toSignIn.headers.get('location')!);
    expect(signInPage.status).toBe(200);
    expectNeverFramed(signInPage, 'sign-in page');

    // The third-party client's consent page, for a signed-in browser.
    browser.consentAnswer = 'stop';
    try {
      const verifier = client.randomPKCECodeVerifier();
      const consentUrl = client.buildAuthorizationUrl(await discoverAsClient(t, 'third-party-app'), { redirect_uri: thirdPartyRedirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
      const page = await browser.follow(consentUrl.href);
      expect(browser.isConsentPage(page.response, page.url)).toBe(true);
      expectNeverFramed(page.response, 'consent page');
    } finally {
      browser.consentAnswer = 'allow';
    }
  });

  it('OP-16: CSRF — a consent POST without the CSRF token, or with a wrong one, is refused and grants nothing: the next authorization still asks', async () => {
    const victim = new OidcBrowser(t.baseUrl);
    await victim.signIn(t, user, await victimAuthorizationUrl());
    victim.consentAnswer = 'stop';
    const thirdParty = await discoverAsClient(t, 'third-party-app');
    const consentRequest = async () =>
      client.buildAuthorizationUrl(thirdParty, { redirect_uri: thirdPartyRedirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const page = await victim.follow((await consentRequest()).href);
    expect(victim.isConsentPage(page.response, page.url)).toBe(true);
    await page.response.body?.cancel();

    for (const form of [{ decision: 'allow' }, { decision: 'allow', csrf: 'A'.repeat(43) }, { decision: 'allow', csrf: '' }] as Array<Record<string, string>>) {
      const forged = await victim.request(`${page.url}/consent`, { method: 'POST', form });
      expect(forged.status).toBe(403);
      expect(forged.headers.get('location')).toBeNull();
      expect(await forged.text()).not.toMatch(leakPattern);
    }
    // Nothing was granted: the next authorization of that client shows the consent page again.
    const again = await victim.follow((await consentRequest()).href);
    expect(victim.isConsentPage(again.response, again.url)).toBe(true);
    expect(again.url).not.toContain(thirdPartyRedirectUri);
  });

  it('OP-19: a huge or malformed Authorization header at userinfo is invalid_token or invalid_request, never a 500', async () => {
    const { access_token: accessToken } = await oidcLogin(t, browser, user, config, { redirectUri, scope: 'openid' });
    for (const header of [`Bearer ${'A'.repeat(8_000)}`, `Bearer ${accessToken}x`, `Bearer ${accessToken.slice(1)}`]) {
      expectInvalidTokenAtUserinfo(await userinfo(header));
    }
    for (const header of ['Bearer', 'Bearer ', 'Basic Zm9vOmJhcg==', `Bearer ${accessToken} ${accessToken}`, `DPoP ${accessToken}`, 'Bearer ä']) {
      const answer = await userinfo(header);
      expect([400, 401], `${header.slice(0, 20)}: ${answer.text}`).toContain(answer.status);
      expect(['invalid_token', 'invalid_request']).toContain(answer.body['error']);
      expect(answer.text).not.toMatch(leakPattern);
      expect(answer.text).not.toContain(user.userId);
    }
    // Over Node's header limit: refused by the HTTP server itself (431), never a 500.
    const tooLarge = await fetch(`${t.baseUrl}/oidc/me`, { headers: { authorization: `Bearer ${'A'.repeat(20_000)}` } }).then((response) => response.status).catch(() => 'closed');
    expect(tooLarge).toBe(431);
    // The server still answers: the right token works.
    expect((await userinfo(`Bearer ${accessToken}`)).status).toBe(200);
  });

  it('OP-21: a Host or X-Forwarded-Host of evil.example never reaches a Location or discovery', async () => {
    const hostile = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', forwarded: 'host=evil.example;proto=https' };
    const url = await victimAuthorizationUrl();
    const authorize = await fetch(`${t.baseUrl}${url.pathname}${url.search}`, { headers: hostile, redirect: 'manual' });
    expect(authorize.status).toBe(303);
    const location = authorize.headers.get('location')!;
    expect(location).not.toContain('evil');
    expect(new URL(location, t.baseUrl).origin).toBe(t.baseUrl);

    const discovery = await fetch(`${t.baseUrl}/.well-known/openid-configuration`, { headers: hostile });
    const text = await discovery.text();
    expect(text).not.toContain('evil');
    expect((JSON.parse(text) as Record<string, unknown>)['issuer']).toBe(t.baseUrl);
  });

  it('OP-06: a refresh token presented by another client is invalid_grant', async () => {
    const tokens = await oidcLogin(t, browser, user, config, { redirectUri, scope: 'openid offline_access' });
    const stolen = await tokenRequest({ grant_type: 'refresh_token', client_id: 'attacker-app', refresh_token: tokens.refresh_token! });
    expectOAuthError(stolen, 400, 'invalid_grant');
    const own = await tokenRequest({ grant_type: 'refresh_token', client_id: 'victim-app', refresh_token: tokens.refresh_token! });
    expect(own.status, own.text).toBe(200);
  });

  it('OP-08, OP-07: a bearer token for another audience (a resource server’s JWT) or of a service client at userinfo is invalid_token', async () => {
    const resourceToken = await oidcLogin(t, browser, user, otherConfig, { redirectUri: otherRedirectUri, scope: 'openid orders:read', resource: ordersApi, tokenResource: ordersApi });
    expect(resourceToken.access_token.split('.')).toHaveLength(3);
    expectInvalidTokenAtUserinfo(await userinfo(`Bearer ${resourceToken.access_token}`));

    const service = await tokenRequest({ grant_type: 'client_credentials', resource: reportsApi, scope: 'reports:read' }, { authorization: `Basic ${Buffer.from(`reporting:${serviceSecret}`).toString('base64')}` });
    expect(service.status, service.text).toBe(200);
    expectInvalidTokenAtUserinfo(await userinfo(`Bearer ${String(service.body['access_token'])}`));
  });

  it('OP-05: 200 parallel wrong client secrets at the token endpoint are each 401 invalid_client, none a 500; the right secret still works afterwards', async () => {
    const basic = (secret: string) => ({ authorization: `Basic ${Buffer.from(`reporting:${secret}`).toString('base64')}` });
    const form = { grant_type: 'client_credentials', resource: reportsApi, scope: 'reports:read' };
    const answers = await Promise.all(Array.from({ length: 200 }, (_, index) => tokenRequest(form, basic(`${serviceSecret.slice(0, -4)}${String(index).padStart(4, '0')}`))));
    const statuses = new Map<number, number>();
    for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    expect(Object.fromEntries(statuses)).toEqual({ 401: 200 });
    for (const answer of answers) expectOAuthError(answer, 401, 'invalid_client');

    const right = await tokenRequest(form, basic(serviceSecret));
    expect(right.status, right.text).toBe(200);
    expect(right.body['access_token']).toEqual(expect.any(String));
  });
});
