// Signing in with a passkey alone on the hosted pages, in real Chromium with the CDP virtual
// authenticator (resident keys, user verification): the "Sign in with a passkey" button, conditional
// UI from the username field, the return to where the sign-in was started from, the offer of a
// passkey after a password sign-in ("Not now" keeps it away), the account page telling passkeys that
// sign in alone from second-factor-only ones (and upgrading one), and the WebAuthn Signal API —
// asserted from what the authenticator holds afterwards, whichever way this Chromium has it.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticatorApp } from '../helpers/authenticator-app.js';
import { addPasskeyAuthenticator, chromiumAvailable, launchChromium, screenshot, signUpWithPasskeyOnPages, watchForViolations, type PasskeyAuthenticator } from '../helpers/browser.js';
import { startPages, type RunningPages } from '../helpers/pages-process.js';
import { findFreePort } from '../helpers/process.js';
import { requirement } from '../helpers/requirements.js';

const haveChromium = requirement('Chromium', chromiumAvailable, 'apt-get install -y chromium (Debian package; never a downloaded browser)');

let counter = 0;
const uniqueUsername = (prefix: string) => `${prefix}${process.pid}x${(counter += 1)}`;
const password = 'a passkey tested passphrase';

/** Resolves once the sign-in page's autofill request has ended without a passkey (refused, or none to offer). */
async function autofillRequestEnded(page: Page): Promise<void> {
  await page.locator('form[data-passkey-sign-in][data-conditional-state="ended"]').waitFor({ state: 'attached' });
}

/** The claims of the page session's access token (its payload; the server checked its signature). */
async function accessTokenClaims(context: BrowserContext): Promise<{ acr: string; amr: string[]; sub: string }> {
  const cookie = (await context.cookies()).find((entry) => entry.name === '__Host-twofold-access');
  if (cookie === undefined) throw new Error('not signed in: no access cookie');
  return JSON.parse(Buffer.from(cookie.value.split('.')[1]!, 'base64url').toString('utf8'));
}

describe.runIf(haveChromium)('signing in with a passkey alone on the hosted pages (Chromium)', () => {
  let browser: Browser;
  let pages: RunningPages;
  let appServer: Server;
  let appOrigin: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // An application on an allow-listed origin, to come back to after signing in.
    const appPort = await findFreePort();
    appOrigin = `http://localhost:${appPort}`;
    appServer = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>App</title><p>Back in the app</p>'));
    await new Promise<void>((resolve) => appServer.listen(appPort, 'localhost', resolve));
    [browser, pages] = await Promise.all([launchChromium(), startPages({ TWOFOLD_ALLOWED_REDIRECTS: appOrigin })]);
  }, 60_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await pages?.dispose();
    await new Promise((resolve) => appServer?.close(resolve));
  });

  async function newPage(): Promise<{ page: Page; context: BrowserContext; authenticator: PasskeyAuthenticator; violations: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const authenticator = await addPasskeyAuthenticator(context, page);
    return { page, context, authenticator, violations: watchForViolations(page) };
  }

  /** Sign up with a passkey as the first factor; ends on the account page. */
  const signUpWithPasskey = (page: Page, username: string) => signUpWithPasskeyOnPages(page, pages.url, { username, password });

  /** Sign up with an authenticator app; ends on the account page, just signed in with a password and a second factor. */
  async function signUpWithApp(page: Page, username: string): Promise<AuthenticatorApp> {
    await page.goto(`${pages.url}/sign-up`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button:has-text("Create account")');
    await page.waitForURL('**/enroll');
    await page.click('a:has-text("Authenticator app")');
    await page.waitForURL('**/enroll/totp');
    const app = new AuthenticatorApp((await page.textContent('#totp-secret'))!.replace(/\s+/g, ''));
    await page.fill('#code', await app.nextCode());
    await page.click('button:has-text("Confirm")');
    await page.waitForSelector('#recovery-codes');
    await page.click('a:has-text("I saved them")');
    await page.waitForURL('**/account');
    return app;
  }

  async function signInWithApp(page: Page, username: string, app: AuthenticatorApp): Promise<void> {
    await page.goto(`${pages.url}/sign-in`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button:has-text("Continue")');
    await page.waitForURL('**/sign-in/verify');
    await page.fill('#code', await app.nextCode());
    await page.click('button:has-text("Verify")');
    await page.waitForURL('**/account');
  }

  /** Open the server's database read-write (WAL: beside the running server) to stand in for data an older version wrote. */
  function withDatabase<T>(run: (db: BetterSqlite3.Database) => T): T {
    const db = new BetterSqlite3(join(pages.dataDir, 'twofold.db'));
    db.pragma('busy_timeout = 5000');
    try {
      return run(db);
    } finally {
      db.close();
    }
  }

  it('PP-01: register with a passkey, sign out, then "Sign in with a passkey": one touch, no username — signed in at aal2, no password in the amr', async () => {
    const { page, context, authenticator, violations } = await newPage();
    const username = uniqueUsername('alone');
    await signUpWithPasskey(page, username);
    expect(await page.getAttribute('[data-passkey-ability]', 'data-passkey-ability')).toBe('sign-in');
    const [credential] = await authenticator.credentials();
    expect(credential?.isResidentCredential).toBe(true);
    // Chromium's virtual authenticator answers the sign-in page's autofill request at once, without
    // a person picking the passkey: refused here (as by a person who does not pick it there), so
    // that it is the button that signs in.
    await authenticator.setUserVerified(false);
    await page.click('header button:has-text("Sign out")');
    await page.waitForURL('**/sign-in?done=signed-out');
    await page.goto(`${pages.url}/sign-in`);
    expect(await page.getAttribute('#username', 'autocomplete')).toBe('username webauthn');
    const button = page.locator('button:has-text("Sign in with a passkey")');
    await button.waitFor();
    await autofillRequestEnded(page);
    await authenticator.setUserVerified(true);
    expect(await page.inputValue('#username')).toBe('');
    await button.click();
    await page.waitForURL('**/account');
    expect(await page.textContent('h1')).toContain(username);
    const claims = await accessTokenClaims(context);
    expect(claims.acr).toBe('aal2');
    expect(claims.amr).toEqual(['swk', 'mfa']);
    // Someone with a passkey that signs in alone is not offered one.
    expect(await page.locator('[data-passkey-offer]').count()).toBe(0);
    expect(violations).toEqual([]);
  });

  it('PP-01: conditional UI — the sign-in page starts a request with mediation "conditional", and the passkey from the username field\'s autofill signs in', async () => {
    const { page, context, authenticator, violations } = await newPage();
    const username = uniqueUsername('autofill');
    await signUpWithPasskey(page, username);
    await authenticator.setUserVerified(false);
    await page.click('header button:has-text("Sign out")');
    await page.waitForURL('**/sign-in?done=signed-out');
    expect((await authenticator.credentials()).length).toBe(1);
    await autofillRequestEnded(page);
    await authenticator.setUserVerified(true);
    // The requests the page makes, as the browser receives them (recorded, then passed on untouched).
    await context.addInitScript(`(() => {
      const get = navigator.credentials.get.bind(navigator.credentials);
      navigator.credentials.get = (options) => {
        sessionStorage.setItem('mediations', [sessionStorage.getItem('mediations'), options && options.mediation || 'modal'].filter(Boolean).join(' '));
        return get(options);
      };
    })()`);
    // Headless Chromium's virtual authenticator answers a conditional request at once with the
    // passkey it holds: it does not wait for the person to focus the username field and pick the
    // passkey from the autofill list, as a real browser does, so the sign-in completes before any
    // focus could be given. Nothing is clicked here: only the page's conditional request can have
    // signed in.
    await page.goto(`${pages.url}/sign-in`);
    await page.waitForURL('**/account');
    expect(await page.evaluate<string | null>(`sessionStorage.getItem('mediations')`)).toBe('conditional');
    const claims = await accessTokenClaims(context);
    expect(claims).toMatchObject({ acr: 'aal2', amr: ['swk', 'mfa'] });
    expect(violations).toEqual([]);
  });

  it('PP-01: a passkey sign-in started for an application returns to it (the return_to an OpenID Provider login uses too)', async () => {
    const { page, authenticator } = await newPage();
    const username = uniqueUsername('returning');
    await signUpWithPasskey(page, username);
    await authenticator.setUserVerified(false);
    await page.click('header button:has-text("Sign out")');
    await page.waitForURL('**/sign-in?done=signed-out');
    await page.goto(`${pages.url}/sign-in?return_to=${encodeURIComponent(`${appOrigin}/after-sign-in`)}`);
    await autofillRequestEnded(page);
    await authenticator.setUserVerified(true);
    await page.click('button:has-text("Sign in with a passkey")');
    await page.waitForURL(`${appOrigin}/after-sign-in`);
    expect(await page.textContent('p')).toBe('Back in the app');
  });

  it('PP-02: a refused passkey (user verification refused) says so on the page; the password form still works', async () => {
    const { page, authenticator } = await newPage();
    const username = uniqueUsername('refused');
    await signUpWithPasskey(page, username);
    await authenticator.setUserVerified(false);
    await page.click('header button:has-text("Sign out")');
    await page.waitForURL('**/sign-in?done=signed-out');
    await page.goto(`${pages.url}/sign-in`);
    await page.click('button:has-text("Sign in with a passkey")');
    await page.locator('[data-error]:has-text("cancelled or timed out")').waitFor();
    expect(page.url()).toBe(`${pages.url}/sign-in`);
    // The password path is untouched: it reaches the second factor.
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button:has-text("Continue")');
    await page.waitForURL('**/sign-in/verify');
  });

  it('PP-02: without JavaScript the passkey button stays hidden and the password form works', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${pages.url}/sign-in`);
    expect(await page.isVisible('button:has-text("Sign in with a passkey")')).toBe(false);
    expect(await page.isVisible('#password')).toBe(true);
  });

  it('PP-04: after a password sign-in, someone without a passkey that signs in alone is offered one; "Not now" keeps it away, also at the next sign-in', async () => {
    const { page } = await newPage();
    const username = uniqueUsername('offered');
    const app = await signUpWithApp(page, username);
    const offer = page.locator('[data-passkey-offer]');
    expect(await offer.count()).toBe(1);
    await screenshot(page, '19-passkey-offer');
    expect(await offer.textContent()).toContain('Create a passkey');
    await offer.locator('button:has-text("Not now")').click();
    await page.waitForURL('**/account?done=passkey-offer-dismissed');
    expect(await page.textContent('[data-error]')).toContain('90 days');
    expect(await offer.count()).toBe(0);

    await page.click('header button:has-text("Sign out")');
    await signInWithApp(page, username, app);
    expect(await offer.count()).toBe(0);
    const dismissedAt = withDatabase((db) => (db.prepare('select passkey_offer_dismissed_at as at from users where username = ?').get(username) as { at: number | null }).at);
    expect(dismissedAt).toBeGreaterThan(Date.now() - 10 * 60_000);
  });

  it('PP-04: "Create a passkey" from the offer enrolls one that signs in alone, and the offer is gone', async () => {
    const { page } = await newPage();
    const username = uniqueUsername('accepted');
    await signUpWithApp(page, username);
    await page.locator('[data-passkey-offer] button:has-text("Create a passkey")').click();
    await page.waitForURL('**/account?done=factor-added');
    expect(await page.locator('[data-passkey-offer]').count()).toBe(0);
    expect(await page.getAttribute('[data-passkey-ability]', 'data-passkey-ability')).toBe('sign-in');
  });

  it('PP-05: the account page tells a passkey that signs in alone from a second-factor-only one, and "Upgrade" replaces the latter', async () => {
    const { page, authenticator } = await newPage();
    const username = uniqueUsername('upgrade');
    await signUpWithApp(page, username);
    await page.locator('[data-passkey-offer] button:has-text("Create a passkey")').click();
    await page.waitForURL('**/account?done=factor-added');
    // Stand in for a passkey registered before Twofold asked for discoverable ones (migration 0018: unknown).
    withDatabase((db) => db.prepare('update webauthn_credentials set discoverable = null where factor_id in (select f.id from factors f join users u on u.id = f.user_id where u.username = ?)').run(username));
    await page.reload();
    const row = page.locator('tr:has([data-passkey-ability])');
    expect(await row.locator('[data-passkey-ability]').getAttribute('data-passkey-ability')).toBe('second-factor');
    expect(await row.textContent()).toContain('Second factor only');
    await screenshot(page, '20-passkey-second-factor-only');
    const oldFactorId = await row.getAttribute('data-factor-id');
    // The person's old passkey is on a security key that is not here; the new one is made on this device.
    const [old] = await authenticator.credentials();
    await authenticator.removeCredential(old!.credentialId);

    await row.locator('a:has-text("Upgrade")').click();
    await page.waitForURL('**/account/factors/*/upgrade');
    expect(await page.textContent('main')).toContain('cannot be changed into one');
    await page.click('button:has-text("Create the new passkey")');
    await page.waitForURL('**/account?done=passkey-upgraded');
    const abilities = page.locator('[data-passkey-ability]');
    expect(await abilities.count()).toBe(1);
    expect(await abilities.getAttribute('data-passkey-ability')).toBe('sign-in');
    expect(await page.locator(`tr[data-factor-id="${oldFactorId}"]`).count()).toBe(0);
  });

  it('PP-03: Signal API — removing a passkey on the account page tells the browser the accepted credentials; a sign-in with a removed passkey tells it the credential is unknown', async () => {
    const { page, authenticator } = await newPage();
    const username = uniqueUsername('signals');
    const app = await signUpWithApp(page, username);
    await page.locator('[data-passkey-offer] button:has-text("Create a passkey")').click();
    await page.waitForURL('**/account?done=factor-added');
    const [credential] = await authenticator.credentials();
    expect(credential).toBeDefined();
    // What this Chromium has; the assertions below follow it either way (nothing is stubbed).
    const signalApi = await page.evaluate<{ all: boolean; unknown: boolean }>(
      `({ all: typeof PublicKeyCredential.signalAllAcceptedCredentials === 'function', unknown: typeof PublicKeyCredential.signalUnknownCredential === 'function' })`,
    );
    // The account page with the passkey accepted: the signal (if any) keeps it.
    await page.locator('[data-passkey-signal][data-signals-sent]').waitFor({ state: 'attached' });
    expect((await authenticator.credentials()).length).toBe(1);

    // Remove it (the factor was set up moments ago: no step-up needed).
    await page.locator('tr:has([data-passkey-ability]) button:has-text("Remove")').click();
    await page.waitForURL('**/account?done=factor-removed');
    const sent = page.locator('[data-passkey-signal][data-signals-sent]');
    await sent.waitFor({ state: 'attached' });
    if (signalApi.all) {
      expect(await sent.getAttribute('data-signals-sent')).toContain('allAcceptedCredentials');
      await expect.poll(async () => (await authenticator.credentials()).length).toBe(0);
    } else {
      expect(await sent.getAttribute('data-signals-sent')).toBe('none');
      expect((await authenticator.credentials()).length).toBe(1);
    }

    // The same passkey on another of the person's devices, which never heard of the removal.
    if ((await authenticator.credentials()).length === 0) await authenticator.addCredential(credential!);
    await authenticator.setUserVerified(false);
    await page.click('header button:has-text("Sign out")');
    await page.waitForURL('**/sign-in?done=signed-out');
    await autofillRequestEnded(page);
    await authenticator.setUserVerified(true);
    // The autofill request offers it at once; the server does not know it any more.
    await page.goto(`${pages.url}/sign-in`);
    await page.waitForURL('**/sign-in/passkey');
    expect(await page.textContent('main .error[role="alert"]')).toContain('did not sign you in');
    const unknown = page.locator('[data-passkey-signal="unknown-credential"]');
    expect(await unknown.getAttribute('data-credential-id')).toBe(credential!.credentialId.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
    await page.locator('[data-passkey-signal="unknown-credential"][data-signals-sent]').waitFor({ state: 'attached' });
    if (signalApi.unknown) await expect.poll(async () => (await authenticator.credentials()).length).toBe(0);
    else expect((await authenticator.credentials()).length).toBe(1);
    // No loop: the page does not start the autofill request again after a refusal.
    expect(page.url()).toBe(`${pages.url}/sign-in/passkey`);
    // And the password still signs in.
    await signInWithApp(page, username, app);
  });
});
