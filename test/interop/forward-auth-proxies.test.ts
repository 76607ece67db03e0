// Forward-auth behind the real proxies: Debian's nginx (auth_request), Caddy (forward_auth) and
// HAProxy (the Lua action), each configured with examples/forward-auth/'s file as the README
// prints it (only the example addresses replaced), in front of an app with no login of its own
// (test/helpers/identity-echo-app.ts: it echoes and verifies what it was told). Twofold listens
// for real with forward-auth on for the cookie domain twofold.localhost; Chromium reaches
// auth.twofold.localhost (Twofold) and app.twofold.localhost (the proxy) on 127.0.0.1.
// Chromium signs in with a password and the authenticator app and comes back to the page it asked
// for; a denied path is refused; a max_age path after the second factor got old asks only for a
// step-up; logout ends it; an API client with an access token passes; and a client-sent
// Remote-User never reaches the app.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../helpers/clock.js';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { signIn, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { echoOn, startIdentityEchoApp, type IdentityEchoApp } from '../helpers/identity-echo-app.js';
import { findFreePort } from '../helpers/process.js';
import { forwardAuthExampleFile, proxyAvailable, startProxy, type ExampleAddresses, type ProxyName, type RunningProxy } from '../helpers/proxies.js';
import { requirement } from '../helpers/requirements.js';
import { requestThroughProxy } from '../helpers/through-proxy.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const haveChromium = requirement('Chromium', chromiumAvailable, 'apt-get install -y chromium (Debian package; never a downloaded browser)');
const proxies: ProxyName[] = ['nginx', 'caddy', 'haproxy'];
const haveProxies = proxies.every((name) => requirement(name, proxyAvailable(name), `apt-get install -y ${name} (Debian package)`));

// *.localhost: Chromium counts these origins as secure over plain HTTP, so it keeps the hosted
// pages' __Host- cookies (a mapped *.test host would lose them); the domain cookie is for twofold.localhost.
const cookieDomain = 'twofold.localhost';
const appHost = `app.${cookieDomain}`;

/** The README's rules file, for the test's app host. */
const rules = forwardAuthExampleFile('rules.yaml').replaceAll('app.example.com', appHost);

describe.skipIf(!haveChromium || !haveProxies)('forward-auth behind nginx, Caddy and HAProxy', () => {
  let t: TestTwofold;
  let publicUrl: string;
  let twofoldAddress: string;
  let app: IdentityEchoApp;
  let browser: Browser;
  let user: SignedUp;
  let rulesDirectory: string;
  const proxyPorts = new Map<ProxyName, number>();

  beforeAll(async () => {
    const twofoldPort = await findFreePort();
    publicUrl = `http://auth.${cookieDomain}:${twofoldPort}`;
    twofoldAddress = `127.0.0.1:${twofoldPort}`;
    rulesDirectory = mkdtempSync(join(tmpdir(), 'twofold-forward-auth-rules-'));
    writeFileSync(join(rulesDirectory, 'rules.yaml'), rules);
    t = await startTestTwofold({
      // Today's time, not the fixed test epoch: the browser judges cookie expiry by its own clock.
      clock: createTestClock(Date.now()),
      env: {
        TWOFOLD_PUBLIC_URL: publicUrl,
        TWOFOLD_FORWARD_AUTH: 'on',
        TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: cookieDomain,
        TWOFOLD_FORWARD_AUTH_RULES: join(rulesDirectory, 'rules.yaml'),
        // The proxies reach Twofold from 127.0.0.1: only they may say what the original request was.
        TWOFOLD_TRUSTED_PROXIES: '127.0.0.1',
      },
    });
    await t.app.listen({ port: twofoldPort, host: '127.0.0.1' });
    user = await signUp(t);
    app = await startIdentityEchoApp({ issuer: publicUrl, audience: `http://${appHost}`, jwksUrl: `http://${twofoldAddress}/.well-known/jwks.json`, now: t.clock.now });
    for (const name of proxies) proxyPorts.set(name, await findFreePort());
    browser = await launchChromium([`--host-resolver-rules=MAP *.${cookieDomain} 127.0.0.1`]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await t?.close();
    if (rulesDirectory !== undefined) rmSync(rulesDirectory, { recursive: true, force: true });
  });

  describe.each(proxies)('%s', (name) => {
    let proxy: RunningProxy;
    let appUrl: string;

    beforeAll(async () => {
      const addresses: ExampleAddresses = { twofoldAddress, upstreamAddress: app.address, appHost, proxyPort: proxyPorts.get(name)! };
      proxy = await startProxy(name, addresses);
      appUrl = proxy.baseUrl;
    }, 30_000);
    afterAll(async () => {
      await proxy?.stop();
    });

    /** A scenario in a fresh browser (no cookies); a failure says where the browser went and what the proxy logged. */
    async function inBrowser(scenario: (page: Page) => Promise<void>): Promise<void> {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const visited: string[] = [];
      page.on('response', (response) => visited.push(`${response.status()} ${response.url()}`));
      page.on('requestfailed', (request) => visited.push(`failed ${request.url()} ${request.failure()?.errorText}`));
      try {
        await scenario(page);
      } catch (error) {
        const body = await page.content().catch(() => '');
        throw new Error(`${String(error)}\nresponses:\n${visited.join('\n')}\nthe browser was at ${page.url()}:\n${body.slice(0, 2000)}\n${name}'s log:\n${proxy.log()}`, { cause: error });
      } finally {
        await context.close();
      }
    }

    /** On Twofold's sign-in page: the password, then the authenticator app's code. */
    async function signInAtTwofold(page: Page): Promise<void> {
      await page.waitForURL(`${publicUrl}/sign-in**`);
      await page.fill('#username', user.username);
      await page.fill('#password', user.password);
      await page.click('button:has-text("Continue")');
      await page.waitForURL(`${publicUrl}/sign-in/verify**`);
      await enterCode(page);
    }

    /** A fresh authenticator-app code on the page in front of the browser (sign-in or step-up). */
    async function enterCode(page: Page): Promise<void> {
      t.clock.advanceSeconds(30);
      await page.fill('#code', totpCode(t, user.secret));
      await page.click('button:has-text("Verify")');
    }

    /** Signed in through the proxy: the first visit to `path` goes through Twofold and back. */
    async function signedInAt(page: Page, path: string): Promise<void> {
      await page.goto(`${appUrl}${path}`);
      await signInAtTwofold(page);
      await page.waitForURL(`${appUrl}${path}`);
    }

    it('FA-50: an unauthenticated visit goes to Twofold’s sign-in and, after password and authenticator app, back to the page asked for; the app gets Remote-User, Remote-Acr, Remote-Amr and an assertion it verifies against the JWKS', async () => {
      await inBrowser(async (page) => {
        await signedInAt(page, '/reports/latest?page=2&sort=date%20desc');
        const echo = await echoOn(page);
        expect(echo.path).toBe('/reports/latest?page=2&sort=date%20desc');
        expect(echo.remoteUser).toBe(user.username);
        expect(echo.remoteAcr).toBe('aal2');
        expect(echo.remoteAmr?.split(',')).toEqual(expect.arrayContaining(['pwd', 'otp']));
        expect(echo.assertionError).toBeNull();
        expect(echo.assertion).toMatchObject({ iss: publicUrl, sub: user.userId, username: user.username, acr: 'aal2' });
        const claims = echo.assertion!;
        expect((claims['exp'] as number) - (claims['iat'] as number)).toBeLessThanOrEqual(60);
      });
    }, 60_000);

    it('FA-51: a path the rules deny answers 403 to a signed-in person, and the app never sees the request', async () => {
      await inBrowser(async (page) => {
        await signedInAt(page, '/');
        const before = app.received.length;
        const response = await page.goto(`${appUrl}/private/ledger`);
        expect(response!.status()).toBe(403);
        expect(app.received.slice(before).filter((request) => request.path.startsWith('/private'))).toEqual([]);
      });
    }, 60_000);

    it('FA-52: on a max_age path, a second factor older than max_age leads to the step-up page, not a new sign-in, and the code alone brings the person back', async () => {
      await inBrowser(async (page) => {
        await signedInAt(page, '/account/settings');
        expect((await echoOn(page)).remoteUser).toBe(user.username);
        // The rules' max_age is 300 s: a little later the same path wants a fresh second factor.
        t.clock.advanceSeconds(301);
        const visited: string[] = [];
        page.on('request', (request) => visited.push(request.url()));
        await page.goto(`${appUrl}/account/settings`);
        await page.waitForURL(`${publicUrl}/account/verify**`);
        // Never the password page again: the session stands, only its second factor is old.
        expect(visited.filter((url) => url.startsWith(`${publicUrl}/sign-in`) && !url.startsWith(`${publicUrl}/sign-in/`) && !url.includes('/v1/forward-auth/'))).toEqual([]);
        await enterCode(page);
        await page.waitForURL(`${appUrl}/account/settings`);
        expect((await echoOn(page)).remoteUser).toBe(user.username);
      });
    }, 60_000);

    it('FA-53: the logout URL (a POST form) ends the forward-auth session: the next visit asks for a sign-in again', async () => {
      await inBrowser(async (page) => {
        await signedInAt(page, '/');
        await page.goto(`${publicUrl}/v1/forward-auth/logout?rd=${encodeURIComponent(`${appUrl}/`)}`);
        await page.locator('form[method="post" i] button[type="submit"], form[method="post" i] button:not([type])').first().click();
        // Back to rd, which now asks for a sign-in.
        await page.waitForURL(`${publicUrl}/sign-in**`);
        const response = await requestThroughProxy(appUrl, '/', { headers: { cookie: (await page.context().cookies(appUrl)).map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') } });
        expect([302, 401]).toContain(response.status);
      });
    }, 60_000);

    it('FA-54: an API client with a Twofold access token (Authorization: Bearer) is judged by the same rules: it passes, and the app sees who it is', async () => {
      const { accessToken } = await signIn(t, user);
      const before = app.received.length;
      const response = await requestThroughProxy(appUrl, '/api/orders', { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } });
      expect(response.status, response.body).toBe(200);
      const reached = app.received.slice(before);
      expect(reached).toHaveLength(1);
      expect(reached[0]).toMatchObject({ path: '/api/orders', remoteUser: user.username, remoteAcr: 'aal2', assertionError: null });
      expect(reached[0]!.assertion).toMatchObject({ sub: user.userId });
      // The same rules: a denied path is denied to the token too.
      const denied = await requestThroughProxy(appUrl, '/private/ledger', { headers: { authorization: `Bearer ${accessToken}` } });
      expect(denied.status).toBe(403);
      expect(app.received.length).toBe(before + 1);
    }, 30_000);

    it('FA-66: a client naming an allowed path in X-Original-URL or X-Forwarded-* (which the proxy may pass on) never opens a denied one', async () => {
      const { accessToken } = await signIn(t, user);
      const before = app.received.length;
      const spoofed = { 'x-original-url': `${appUrl}/api/orders`, 'x-original-method': 'GET', 'x-forwarded-uri': '/api/orders', 'x-forwarded-host': appHost, 'x-forwarded-method': 'GET' };
      const response = await requestThroughProxy(appUrl, '/private/ledger', { headers: { ...spoofed, authorization: `Bearer ${accessToken}` } });
      expect(response.status).toBe(403);
      expect(app.received.length).toBe(before);
    }, 30_000);

    it('FA-55: identity headers a client sends itself never reach the app: on a bypass path they are dropped, with a token they are replaced by Twofold’s', async () => {
      // Underscored twins too: CGI, PHP and WSGI read Remote_User as Remote-User (HTTP_REMOTE_USER).
      const forged = { 'remote-user': 'admin', 'remote-acr': 'phrh', 'remote-amr': 'hwk', 'x-twofold-assertion': 'forged.assertion.value', remote_user: 'admin', x_twofold_assertion: 'forged' };
      const before = app.received.length;
      const bypass = await requestThroughProxy(appUrl, '/health', { headers: forged });
      expect(bypass.status).toBe(200);
      const { accessToken } = await signIn(t, user);
      const withToken = await requestThroughProxy(appUrl, '/api/orders', { headers: { ...forged, authorization: `Bearer ${accessToken}` } });
      expect(withToken.status).toBe(200);
      const [health, orders] = app.received.slice(before);
      expect(health).toMatchObject({ path: '/health', remoteUser: null, remoteAcr: null, remoteAmr: null, assertion: null, assertionError: null });
      expect(orders).toMatchObject({ path: '/api/orders', remoteUser: user.username, remoteAcr: 'aal2', assertionError: null });
      expect(orders!.remoteAmr).not.toBe('hwk');
      for (const request of [health!, orders!]) expect(Object.keys(request.headers).filter((name) => name.includes('_'))).toEqual([]);
      // An unauthenticated request with forged headers goes to the sign-in, never to the app.
      const unauthenticated = await requestThroughProxy(appUrl, '/api/orders', { headers: forged });
      expect(unauthenticated.status).toBe(302);
      expect(String(unauthenticated.headers.location)).toContain(`${publicUrl}/`);
      expect(app.received.length).toBe(before + 2);
    }, 30_000);
  });
});
