// The admin console (/admin) end to end in real Chromium against a `twofold serve` process: an
// admin signs in with a password and an app code and lands back on the console, finds a user,
// sees their factors, sessions and events (no secret anywhere), ends their sessions and resets
// their second factors with a typed reason — each checked where it counts (the user's refresh
// token refused, the audit row naming admin, target and reason). Around it: a form without its
// CSRF token refused, a support user who sees the pages without a form to act and is refused
// when forcing one, markup in a reason shown as text, the strict CSP kept, and a phone-sized
// screen with nothing sticking out.
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticatorApp } from '../helpers/authenticator-app.js';
import { chromiumAvailable, horizontalOverflow, launchChromium, screenshot, watchForViolations } from '../helpers/browser.js';
import { startPages, type RunningPages } from '../helpers/pages-process.js';
import { runCommand } from '../helpers/process.js';
import { requirement } from '../helpers/requirements.js';
import { testEnvironment } from '../helpers/twofold.js';

const haveChromium = requirement('Chromium', chromiumAvailable, 'apt-get install -y chromium (Debian package; never a downloaded browser)');

const password = 'an admin console passphrase';
let counter = 0;
const uniqueUsername = (prefix: string) => `${prefix}${process.pid}x${(counter += 1)}`;

interface ApiUser {
  username: string;
  userId: string;
  app: AuthenticatorApp;
  factorId: string;
  /** The refresh tokens of the sessions signed in so far, newest last. */
  refreshTokens: string[];
}

describe.runIf(haveChromium)('AD: the admin console in Chromium', () => {
  let browser: Browser;
  let pages: RunningPages;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [browser, pages] = await Promise.all([launchChromium(), startPages()]);
  }, 60_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await pages?.dispose();
  });

  async function api(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, any> }> {
    const response = await fetch(`${pages.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, any>) };
  }

  /** Register through the API and confirm the app (the first session, from this User-Agent). */
  async function registerUser(prefix: string, userAgent = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36'): Promise<ApiUser> {
    const username = uniqueUsername(prefix);
    const registered = await api('/v1/register', { username, password, email: `${username}@example.com` }, { 'user-agent': userAgent });
    expect(registered.status, JSON.stringify(registered.json)).toBe(201);
    const app = new AuthenticatorApp(registered.json['totp'].secret);
    const factorId = registered.json['totp'].factor_id as string;
    const confirmed = await api(`/v1/factors/${factorId}/verify`, { code: await app.nextCode() }, { authorization: `Bearer ${registered.json['mfa_token']}`, 'user-agent': userAgent });
    expect(confirmed.status, JSON.stringify(confirmed.json)).toBe(200);
    return { username, userId: registered.json['user'].id, app, factorId, refreshTokens: [confirmed.json['refresh_token']] };
  }

  async function grantRole(user: ApiUser, role: 'admin' | 'support'): Promise<void> {
    const result = await runCommand(process.execPath, ['dist/cli/main.js', 'users', 'grant-role', user.username, role], testEnvironment(pages.dataDir));
    expect(result.code, result.stderr).toBe(0);
  }

  async function refreshWorks(refreshToken: string): Promise<boolean> {
    const response = await api('/v1/token/refresh', { refresh_token: refreshToken });
    return response.status === 200;
  }

  async function newPage(viewport = { width: 1024, height: 800 }): Promise<{ page: Page; context: BrowserContext; violations: string[] }> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    return { page, context, violations: watchForViolations(page) };
  }

  /** Opens /admin signed out: the sign-in page, password and app code, and back to the console. */
  async function signInToConsole(page: Page, user: ApiUser, path = '/admin'): Promise<void> {
    await page.goto(`${pages.url}${path}`);
    await page.waitForURL('**/sign-in**');
    await page.fill('#username', user.username);
    await page.fill('#password', password);
    await page.click('button:has-text("Continue")');
    await page.waitForURL('**/sign-in/verify');
    await page.fill('#code', await user.app.nextCode());
    await page.click('main button[type="submit"]:has-text("Verify")');
    await page.waitForURL(`**${path}`);
  }

  /** The audit rows of one type about a user, read from the server's database. */
  async function auditRows(userId: string, type: string): Promise<Array<{ details: Record<string, unknown> }>> {
    for (let tries = 0; tries < 50; tries += 1) {
      const sqlite = new BetterSqlite3(join(pages.dataDir, 'twofold.db'), { readonly: true });
      try {
        const rows = sqlite.prepare('select details from security_events where user_id = ? and type = ?').all(userId, type) as Array<{ details: string | null }>;
        if (rows.length > 0) return rows.map((row) => ({ details: JSON.parse(row.details ?? '{}') as Record<string, unknown> }));
      } finally {
        sqlite.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return [];
  }

  let admin: ApiUser;
  let support: ApiUser;

  beforeAll(async () => {
    [admin, support] = await Promise.all([registerUser('admin'), registerUser('support')]);
    await grantRole(admin, 'admin');
    await grantRole(support, 'support');
  }, 120_000);

  it('AD-01, AD-02: an admin signs in, finds a user, sees their factors and events, ends their sessions and resets their second factors with a reason', async () => {
    const target = await registerUser('target', '<script>window.pwnedByAgent=1</script>');
    const secret = target.app.secret;
    const { page, violations } = await newPage();

    // Signed out: the console sends the person to sign in and brings them back.
    await signInToConsole(page, admin);
    await screenshot(page, '21-admin-search');

    // Find the user by a part of their username.
    await page.fill('#q', target.username);
    await page.click('form[role="search"] button:has-text("Search")');
    await page.waitForURL('**/admin?**');
    expect(await page.locator('[data-results] tbody tr').count()).toBe(1);
    await page.click(`[data-results] a:has-text("${target.username}")`);
    await page.waitForURL(`**/admin/users/${target.userId}`);
    expect(await page.textContent('h1')).toBe(target.username);

    // Their factor, session and events — and no secret anywhere on the page.
    expect(await page.locator('[data-factors] tbody tr').count()).toBe(1);
    expect(await page.textContent('[data-factors]')).toContain('Authenticator app');
    expect(await page.locator('[data-sessions] tbody tr').count()).toBe(1);
    expect(await page.locator('[data-events] tbody tr').count()).toBeGreaterThan(0);
    expect(await page.textContent('[data-events]')).toContain('Account created');
    expect(await page.content()).not.toContain(secret);
    // The User-Agent it signed in with is text, never markup.
    expect(await page.getAttribute('[data-sessions] [data-device]', 'title')).toBe('<script>window.pwnedByAgent=1</script>');
    expect(await page.evaluate('window.pwnedByAgent')).toBeUndefined();
    await screenshot(page, '22-admin-user');

    // End sessions: a confirmation page, a reason refused when too short, then done.
    expect(await refreshWorks(target.refreshTokens[0]!)).toBe(true);
    await page.click('[data-action="end-sessions"]');
    await page.waitForURL('**/end-sessions');
    expect(await page.textContent('[data-explanation]')).toContain('signs');
    await page.fill('#reason', 'x');
    await page.click('main button[type="submit"]');
    expect(await page.locator('#reason[aria-invalid="true"]').count()).toBe(1);
    await page.fill('#reason', 'Lost laptop, ticket 4711 <script>window.pwnedByReason=1</script>');
    await page.click('main button[type="submit"]');
    await page.waitForURL(`**/admin/users/${target.userId}?done=end-sessions`);
    expect(await page.textContent('[role="status"]')).toContain('Every session of the user was ended');
    expect(await page.locator('[data-no-sessions]').count()).toBe(1);
    expect(await refreshWorks(target.refreshTokens[0]!)).toBe(false);
    // The reason, markup included, is shown as text in the events.
    expect(await page.textContent('[data-events]')).toContain('<script>window.pwnedByReason=1</script>');
    expect(await page.evaluate('window.pwnedByReason')).toBeUndefined();
    const ended = await auditRows(target.userId, 'admin.sessions_ended');
    expect(JSON.stringify(ended)).toContain(admin.userId);
    expect(JSON.stringify(ended)).toContain('Lost laptop, ticket 4711');

    // A new session of the user, then reset their second factors: the page says what happens first.
    const again = await api('/v1/login', { username: target.username, password });
    const signedIn = await api('/v1/mfa/verify', { code: await target.app.nextCode() }, { authorization: `Bearer ${again.json['mfa_token']}` });
    expect(signedIn.status).toBe(200);
    await page.click('[data-action="reset-second-factors"]');
    await page.waitForURL('**/reset-second-factors');
    const explanation = await page.textContent('[data-explanation]');
    expect(explanation).toContain('every second factor');
    expect(explanation).toContain('every session');
    await screenshot(page, '23-admin-reset');
    await page.fill('#reason', 'User lost their phone (ticket 4712)');
    await page.click('main button[type="submit"]:has-text("Reset second factors")');
    await page.waitForURL(`**/admin/users/${target.userId}?done=reset-second-factors`);
    expect(await page.locator('[data-no-factors]').count()).toBe(1);
    expect(await page.locator('[data-no-sessions]').count()).toBe(1);
    expect(await refreshWorks(signedIn.json['refresh_token'])).toBe(false);
    const reset = await auditRows(target.userId, 'admin.factors_reset');
    expect(JSON.stringify(reset)).toContain(admin.userId);
    expect(JSON.stringify(reset)).toContain('User lost their phone (ticket 4712)');
    // The next sign-in still asks for the password, then for a new factor.
    const next = await api('/v1/login', { username: target.username, password });
    expect(next.status).toBe(200);
    expect(next.json['next']).toBe('enroll');

    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(await page.locator('[style]').count()).toBe(0);
    expect(violations).toEqual([]);
  }, 180_000);

  it('SS-08: a console form without its CSRF token is refused and changes nothing', async () => {
    const target = await registerUser('forged');
    const { page } = await newPage();
    await signInToConsole(page, admin);
    const forged = await page.request.post(`${pages.url}/admin/users/${target.userId}/end-sessions`, { form: { reason: 'a forged request' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    expect(forged.headers()['content-type']).toMatch(/^text\/html/);
    expect(await forged.text()).toContain('This form has expired');
    expect(await refreshWorks(target.refreshTokens[0]!)).toBe(true);
  }, 120_000);

  it('AD-01: a support user sees the console without a form to act, and a forced action is refused with a page', async () => {
    const target = await registerUser('looked');
    const { page, context } = await newPage();
    await signInToConsole(page, support, `/admin/users/${target.userId}`);
    expect(await page.textContent('h1')).toBe(target.username);
    expect(await page.locator('[data-read-only]').count()).toBe(1);
    expect(await page.locator('[data-action]').count()).toBe(0);
    expect(await page.locator('main form[method="post"]').count()).toBe(0);
    // The action's page itself is refused, and so is its POST with a valid CSRF token.
    const confirmation = await page.goto(`${pages.url}/admin/users/${target.userId}/lock`);
    expect(confirmation?.status()).toBe(403);
    expect(await page.textContent('[role="alert"]')).toContain('support role only reads');
    const csrf = (await context.cookies()).find((cookie) => cookie.name === '__Host-twofold-csrf')!.value;
    const forced = await page.request.post(`${pages.url}/admin/users/${target.userId}/lock`, { form: { csrf, reason: 'support tries to act' }, maxRedirects: 0 });
    expect(forced.status()).toBe(403);
    expect(await forced.text()).toContain('support role only reads');
    expect(await refreshWorks(target.refreshTokens[0]!)).toBe(true);
  }, 120_000);

  it('on a phone (390×844) the console pages fit the screen: nothing sticks out or is cut off', async () => {
    const target = await registerUser('phone');
    const { page, violations } = await newPage({ width: 390, height: 844 });
    await signInToConsole(page, admin);
    const check = async (what: string) => {
      await page.waitForLoadState('load');
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), what).toBe(true);
      expect(await horizontalOverflow(page), what).toEqual([]);
    };
    await check('/admin');
    await page.goto(`${pages.url}/admin?q=${encodeURIComponent(target.username)}`);
    expect(await page.locator('[data-results] tbody tr').count()).toBe(1);
    await check('/admin with results');
    await screenshot(page, '24-admin-search-phone');
    await page.goto(`${pages.url}/admin/users/${target.userId}`);
    await check('/admin/users/:id');
    await screenshot(page, '25-admin-user-phone');
    await page.goto(`${pages.url}/admin/users/${target.userId}/reset-second-factors`);
    await check('/admin/users/:id/reset-second-factors');
    expect(violations).toEqual([]);
  }, 120_000);
});
