// A real relying party: Debian's Apache httpd with mod_auth_openidc, configured with the README's
// snippet as printed (only the example hosts and the secret replaced), in front of a listening
// Twofold with the OpenID Provider on. Real Chromium signs in through Twofold's hosted pages
// (password, then the authenticator app) and lands on the protected page, with REMOTE_USER the
// Twofold user; the aal2 location asks Twofold for acr_values=aal2 and gets it; mod_auth_openidc's
// logout goes through Twofold's end_session endpoint and back to the registered post-logout page.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConfidentialOidcClient } from '../../src/oidc/clients.js';
import { apacheAvailable, startApache, type RunningApache } from '../helpers/apache.js';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { fencedBlocks } from '../helpers/markdown.js';
import { findFreePort } from '../helpers/process.js';
import { requirement } from '../helpers/requirements.js';

const haveApache = requirement('Apache httpd with mod_auth_openidc', apacheAvailable, 'apt-get install -y apache2 libapache2-mod-auth-openidc (Debian packages)');
const haveChromium = requirement('Chromium', chromiumAvailable, 'apt-get install -y chromium (Debian package; never a downloaded browser)');

/** The README's Apache configuration, exactly as a reader copies it. */
function readmeApacheConfiguration(): string {
  const blocks = fencedBlocks(readFileSync('README.md', 'utf8'), 'apache');
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

/**
 * Only for the test to see what Apache decided: the authenticated user and the ID token's acr,
 * echoed as response headers of the static pages.
 */
const observation = ['Header always set X-Remote-User "expr=%{REMOTE_USER}"', 'Header always set X-Acr "expr=%{reqenv:OIDC_CLAIM_acr}"'].join('\n');

const pages = {
  'protected/index.html': '<!doctype html><title>Protected</title><h1>Protected page</h1>',
  'protected/admin/index.html': '<!doctype html><title>Admin</title><h1>Admin page</h1>',
  'signed-out.html': '<!doctype html><title>Signed out</title><h1>You are signed out</h1>',
};

describe.skipIf(!haveApache || !haveChromium)('Apache mod_auth_openidc as a relying party of Twofold', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let apache: RunningApache;
  let browser: Browser;
  let appUrl: string;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on', TWOFOLD_SIGNING_ALG: 'ES256' } });
    user = await signUp(t);
    // Apache on "localhost", Twofold on 127.0.0.1: two sites, so neither sees the other's cookies.
    appUrl = `http://localhost:${await findFreePort()}`;
    const secret = await registerConfidentialOidcClient(t.ctx.db, t.ctx.secretBox, {
      clientId: 'apache',
      redirectUris: [`${appUrl}/protected/redirect_uri`],
      postLogoutRedirectUris: [`${appUrl}/signed-out.html`],
      // As the README registers it: the operator's own front, no consent page.
      firstParty: true,
    });
    const configuration = readmeApacheConfiguration()
      .replaceAll('https://auth.example.com', t.baseUrl)
      .replaceAll('https://app.example.com', appUrl)
      .replace('the-secret-clients-add-printed', secret);
    apache = await startApache({ baseUrl: appUrl, files: pages, configuration: `${configuration}\n${observation}` });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await apache?.stop();
    await t?.close();
  });

  /** A scenario in a fresh browser context; a failure says where the browser was and what Apache logged. */
  async function inBrowser(scenario: (page: Page, visited: URL[]) => Promise<void>): Promise<void> {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const visited: URL[] = [];
    page.on('request', (request) => visited.push(new URL(request.url())));
    page.on('requestfailed', (request) => visited.push(new URL(`${request.url()}#failed-${request.failure()?.errorText}`)));
    page.on('response', (response) => visited.push(new URL(`${response.url()}#${response.status()}`)));
    try {
      await scenario(page, visited);
    } catch (error) {
      const body = await page.content().catch(() => '');
      throw new Error(`${String(error)}\nrequests: ${visited.map((url) => url.href).join('\n')}\nthe browser was at ${page.url()}:\n${body.slice(0, 2000)}\nApache's log:\n${apache.errorLog()}`, { cause: error });
    } finally {
      await context.close();
    }
  }

  /** On Twofold's sign-in page: the password, then the authenticator app's code (a new step). */
  async function signInAtTwofold(page: Page): Promise<void> {
    await page.waitForURL(`${t.baseUrl}/sign-in?**`);
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.click('button:has-text("Continue")');
    await page.waitForURL(`${t.baseUrl}/sign-in/verify**`);
    t.clock.advanceSeconds(30);
    await page.fill('#code', totpCode(t, user.secret));
    await page.click('button:has-text("Verify")');
  }

  /** The authorization requests the browser sent (answers and failures are logged with a #fragment). */
  const authorizationRequests = (visited: URL[]) => visited.filter((url) => url.hash === '' && url.href.startsWith(`${t.baseUrl}/oidc/auth?`));

  it('OP-18: the README snippet signs a person in through Twofold: password and second factor in Chromium, then the protected page with REMOTE_USER the Twofold user and acr aal2', async () => {
    await inBrowser(async (page, visited) => {
      await page.goto(`${appUrl}/protected/`);
      await signInAtTwofold(page);
      await page.waitForURL(`${appUrl}/protected/`);
      const response = await page.reload();
      expect(await page.textContent('h1')).toBe('Protected page');
      expect(response!.headers()['x-remote-user']).toBe(user.userId);
      expect(response!.headers()['x-acr']).toBe('aal2');
      // What mod_auth_openidc asked for: the code flow with PKCE S256, a state and a nonce.
      const first = authorizationRequests(visited)[0]!;
      expect(first.searchParams.get('response_type')).toBe('code');
      expect(first.searchParams.get('code_challenge_method')).toBe('S256');
      expect(first.searchParams.get('client_id')).toBe('apache');
      expect(first.searchParams.get('nonce')).toBeTruthy();
      expect(first.searchParams.get('state')).toBeTruthy();
    });
  }, 60_000);

  it('OP-18: the aal2 location asks Twofold for acr_values=aal2 and admits the person with acr aal2', async () => {
    await inBrowser(async (page, visited) => {
      await page.goto(`${appUrl}/protected/admin/`);
      await signInAtTwofold(page);
      await page.waitForURL(`${appUrl}/protected/admin/`);
      const response = await page.reload();
      expect(await page.textContent('h1')).toBe('Admin page');
      expect(response!.headers()['x-acr']).toBe('aal2');
      expect(authorizationRequests(visited)[0]!.searchParams.get('acr_values')).toBe('aal2');
    });
  }, 60_000);

  it('OP-18: mod_auth_openidc’s logout goes through Twofold’s end_session endpoint to the registered post-logout page, and the protected page then asks for a sign-in again', async () => {
    await inBrowser(async (page, visited) => {
      await page.goto(`${appUrl}/protected/`);
      await signInAtTwofold(page);
      await page.waitForURL(`${appUrl}/protected/`);

      await page.goto(`${appUrl}/protected/redirect_uri?logout=${encodeURIComponent(`${appUrl}/signed-out.html`)}`);
      // Twofold's end_session page may ask the person to confirm.
      if (!page.url().startsWith(`${appUrl}/signed-out.html`)) {
        await page.getByRole('button', { name: /sign.*out|log.*out|yes/i }).first().click();
      }
      await page.waitForURL(`${appUrl}/signed-out.html`);
      expect(await page.textContent('h1')).toBe('You are signed out');
      const endSession = visited.find((url) => url.hash === '' && url.href.startsWith(`${t.baseUrl}/oidc/session/end?`));
      expect(endSession?.searchParams.get('post_logout_redirect_uri')).toBe(`${appUrl}/signed-out.html`);
      expect(endSession?.searchParams.get('id_token_hint')).toBeTruthy();

      // mod_auth_openidc's session is gone: the protected page sends the browser to Twofold again.
      const before = authorizationRequests(visited).length;
      await page.goto(`${appUrl}/protected/`);
      expect(authorizationRequests(visited)).toHaveLength(before + 1);
    });
  }, 60_000);
});
