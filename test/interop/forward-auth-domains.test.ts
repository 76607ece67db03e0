// One sign-in across two parent domains, in Chromium behind Debian's nginx configured with the
// README's example (one server block per app): twofold.localhost, whose portal is Twofold's public
// URL (auth.twofold.localhost), and other.localhost, with a portal of its own
// (auth.other.localhost, the same Twofold). The person signs in once at app.twofold.localhost;
// app.other.localhost then opens with no second password prompt — its portal hands the sign-in to
// the public origin and back with a one-time code — and its app gets the same identity. Signing
// out at the public origin ends both.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../helpers/clock.js';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { echoOn, startIdentityEchoApp, type EchoedRequest, type IdentityEchoApp } from '../helpers/identity-echo-app.js';
import { findFreePort } from '../helpers/process.js';
import { nginxSite, proxyAvailable, startNginx, type RunningProxy } from '../helpers/proxies.js';
import { requirement } from '../helpers/requirements.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const haveChromium = requirement('Chromium', chromiumAvailable, 'apt-get install -y chromium (Debian package; never a downloaded browser)');
const haveNginx = requirement('nginx', proxyAvailable('nginx'), 'apt-get install -y nginx (Debian package)');

// *.localhost: Chromium counts these origins as secure over plain HTTP (it keeps __Host- cookies),
// and twofold.localhost and other.localhost are two sites, as example.com and example.org are.
const primaryDomain = 'twofold.localhost';
const otherDomain = 'other.localhost';
const primaryApp = `app.${primaryDomain}`;
const otherApp = `app.${otherDomain}`;

describe.skipIf(!haveChromium || !haveNginx)('forward-auth: one sign-in across two parent domains, behind nginx', () => {
  let t: TestTwofold;
  let publicUrl: string;
  let otherPortal: string;
  let apps: IdentityEchoApp[] = [];
  let proxy: RunningProxy;
  let browser: Browser;
  let user: SignedUp;
  let rulesDirectory: string;
  let primaryUrl: string;
  let otherUrl: string;

  beforeAll(async () => {
    const twofoldPort = await findFreePort();
    publicUrl = `http://auth.${primaryDomain}:${twofoldPort}`;
    otherPortal = `http://auth.${otherDomain}:${twofoldPort}`;
    const twofoldAddress = `127.0.0.1:${twofoldPort}`;
    rulesDirectory = mkdtempSync(join(tmpdir(), 'twofold-forward-auth-rules-'));
    writeFileSync(join(rulesDirectory, 'rules.yaml'), 'default: two_factor\n');
    t = await startTestTwofold({
      clock: createTestClock(Date.now()),
      env: {
        TWOFOLD_PUBLIC_URL: publicUrl,
        TWOFOLD_FORWARD_AUTH: 'on',
        TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: `${primaryDomain},${otherDomain}=${otherPortal}`,
        TWOFOLD_FORWARD_AUTH_RULES: join(rulesDirectory, 'rules.yaml'),
        TWOFOLD_TRUSTED_PROXIES: '127.0.0.1',
      },
    });
    await t.app.listen({ port: twofoldPort, host: '127.0.0.1' });
    user = await signUp(t);
    const jwksUrl = `http://${twofoldAddress}/.well-known/jwks.json`;
    apps = [
      await startIdentityEchoApp({ issuer: publicUrl, audience: `http://${primaryApp}`, jwksUrl, now: t.clock.now }),
      await startIdentityEchoApp({ issuer: publicUrl, audience: `http://${otherApp}`, jwksUrl, now: t.clock.now }),
    ];
    const proxyPort = await findFreePort();
    // The README's server block once per app, on one port; the shared upstream block only once.
    const primarySite = nginxSite({ twofoldAddress, upstreamAddress: apps[0]!.address, appHost: primaryApp, proxyPort });
    const otherSite = nginxSite({ twofoldAddress, upstreamAddress: apps[1]!.address, appHost: otherApp, proxyPort }).replace(/upstream twofold \{[^}]*\}/, '');
    proxy = await startNginx({ twofoldAddress, upstreamAddress: apps[0]!.address, appHost: primaryApp, proxyPort }, { site: `${primarySite}\n${otherSite}` });
    primaryUrl = `http://${primaryApp}:${proxyPort}`;
    otherUrl = `http://${otherApp}:${proxyPort}`;
    browser = await launchChromium([`--host-resolver-rules=MAP *.${primaryDomain} 127.0.0.1, MAP *.${otherDomain} 127.0.0.1`]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await proxy?.stop();
    for (const app of apps) await app.close();
    await t?.close();
    if (rulesDirectory !== undefined) rmSync(rulesDirectory, { recursive: true, force: true });
  });

  async function inBrowser(scenario: (page: Page, visited: string[]) => Promise<void>): Promise<void> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const visited: string[] = [];
    page.on('request', (request) => {
      if (request.isNavigationRequest()) visited.push(request.url());
    });
    try {
      await scenario(page, visited);
    } catch (error) {
      const body = await page.content().catch(() => '');
      throw new Error(`${String(error)}\nnavigations:\n${visited.join('\n')}\nthe browser was at ${page.url()}:\n${body.slice(0, 2000)}\nnginx's log:\n${proxy.log()}`, { cause: error });
    } finally {
      await context.close();
    }
  }

  /** Signs in at the public origin for the primary domain's app. */
  async function signInAtPrimaryApp(page: Page): Promise<void> {
    await page.goto(`${primaryUrl}/start`);
    await page.waitForURL(`${publicUrl}/sign-in**`);
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.click('button:has-text("Continue")');
    await page.waitForURL(`${publicUrl}/sign-in/verify**`);
    t.clock.advanceSeconds(30);
    await page.fill('#code', totpCode(t, user.secret));
    await page.click('button:has-text("Verify")');
    await page.waitForURL(`${primaryUrl}/start`);
    expect((await echoOn(page)).remoteUser).toBe(user.username);
  }

  /** Opens `url` on app.other.localhost (typed in, or from a link on a page of no site) and checks the handoff went through without a sign-in page. */
  async function openOtherApp(page: Page, visited: string[], url: string, how: 'typed' | 'link'): Promise<EchoedRequest> {
    const before = visited.length;
    if (how === 'typed') await page.goto(url);
    else {
      // A link on another site (an e-mail, a chat): the navigation is cross-site from its start,
      // so the public origin's SameSite=Strict page cookies come only with the handoff's same-site hop.
      await page.goto('about:blank');
      await page.setContent(`<a id="go" href="${url}">open</a>`);
      await page.click('#go');
    }
    await page.waitForURL(url);
    const path = visited.slice(before);
    expect(path.some((visit) => visit.startsWith(`${otherPortal}/v1/forward-auth/sign-in?`))).toBe(true);
    expect(path.some((visit) => visit.startsWith(`${publicUrl}/v1/forward-auth/sso?`))).toBe(true);
    expect(path.some((visit) => visit.startsWith(`${otherPortal}/v1/forward-auth/sso/callback?`))).toBe(true);
    if (how === 'link') expect(path.some((visit) => visit.startsWith(`${publicUrl}/v1/forward-auth/sso?`) && visit.endsWith('&hop=1'))).toBe(true);
    // Never a sign-in page, on either origin.
    expect(path.filter((visit) => new URL(visit).pathname.startsWith('/sign-in'))).toEqual([]);
    return echoOn(page);
  }

  for (const how of ['typed', 'link'] as const) {
    it(`FA-65: signed in once at app.twofold.localhost, app.other.localhost (${how === 'typed' ? 'its address typed in' : 'a link on another site'}) opens with no second password prompt, through its portal’s handoff, with the same identity`, async () => {
      await inBrowser(async (page, visited) => {
        await signInAtPrimaryApp(page);
        const echo = await openOtherApp(page, visited, `${otherUrl}/reports?page=2`, how);
        expect(echo.remoteUser).toBe(user.username);
        expect(echo.remoteAcr).toBe('aal2');
        expect(echo.assertionError).toBeNull();
        expect(echo.assertion).toMatchObject({ iss: publicUrl, sub: user.userId, aud: `http://${otherApp}` });
        // The domain cookie is other.localhost's own, beside twofold.localhost's.
        const cookies = await page.context().cookies();
        expect(cookies.filter((cookie) => cookie.name === '__Secure-twofold-fa').map((cookie) => cookie.domain.replace(/^\./, '')).sort()).toEqual([otherDomain, primaryDomain].sort());
        // The assertions name the same Twofold session.
        await page.goto(`${primaryUrl}/again`);
        expect((await echoOn(page)).assertion?.['sid']).toBe(echo.assertion?.['sid']);
      });
    }, 60_000);
  }

  it('FA-65: signing out at the public origin ends the other domain too: its next visit asks for a sign-in again', async () => {
    await inBrowser(async (page) => {
      await signInAtPrimaryApp(page);
      await page.goto(`${otherUrl}/x`);
      await page.waitForURL(`${otherUrl}/x`);
      await page.goto(`${publicUrl}/v1/forward-auth/logout?rd=${encodeURIComponent(`${primaryUrl}/`)}`);
      await page.locator('form[method="post" i] button').first().click();
      await page.waitForURL(`${publicUrl}/sign-in**`);
      await page.goto(`${otherUrl}/x`);
      // Handed to the public origin, which has no session now: its sign-in page.
      await page.waitForURL(`${publicUrl}/sign-in**`);
    });
  }, 60_000);
});
