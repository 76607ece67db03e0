// The hosted pages end to end in real Chromium — sign up, scan (read) the QR secret,
// confirm, keep recovery codes, sign in with an app code, SMS, a passkey (CDP virtual
// authenticator) or a recovery code, manage factors with step-up, end sessions — with a strict
// CSP, without JavaScript where forms suffice, and screenshots of every page for the README.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastOutboxTextInDataDir, resetCodeIn, sixDigitCodeIn, verificationLinkSentTo } from '../helpers/outbox.js';
import { addPasskeyAuthenticator, chromiumAvailable, horizontalOverflow, launchChromium, screenshot, watchForViolations } from '../helpers/browser.js';
import { AuthenticatorApp } from '../helpers/authenticator-app.js';
import { findFreePort } from '../helpers/process.js';
import { startPages, type RunningPages } from '../helpers/pages-process.js';
import { requirement } from '../helpers/requirements.js';

const haveChromium = requirement('Chromium', chromiumAvailable, 'apt-get install -y chromium (Debian package; never a downloaded browser)');

/** The code a phone would have received, read from the development outbox (sealed: opened with the data dir's key). */
function lastCodeSentTo(dataDir: string, destination: string): string {
  const text = lastOutboxTextInDataDir(dataDir, destination);
  const code = text === undefined ? undefined : sixDigitCodeIn(text);
  if (code === undefined) throw new Error(`no code was sent to ${destination}`);
  return code;
}

/** The password reset code mailed to `address`, read from the development outbox (sent in the background: polled). */
async function resetCodeSentTo(dataDir: string, address: string): Promise<string> {
  for (let tries = 0; tries < 50; tries += 1) {
    const text = lastOutboxTextInDataDir(dataDir, address, 'password_reset');
    const code = text === undefined ? undefined : resetCodeIn(text);
    if (code !== undefined) return code;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no reset code was sent to ${address}`);
}

interface Box {
  top: number;
  right: number;
  width: number;
  height: number;
}

/** The boxes (and a little about them) of the elements a selector finds, measured in the page. */
function boxesOf(page: Page, selector: string): Promise<Array<{ text: string; box: Box; recommended: boolean }>> {
  return page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((element) => ({ text: element.textContent, box: element.getBoundingClientRect().toJSON(), recommended: element.hasAttribute('data-recommended') }))`);
}

/** Resolves once the element with this id has the keyboard focus. */
async function focusOn(page: Page, id: string): Promise<void> {
  await page.locator(`#${id}:focus`).waitFor();
}

let counter = 0;
const uniqueUsername = (prefix: string) => `${prefix}${process.pid}x${(counter += 1)}`;
const password = 'a browser tested passphrase';

/** Sign up (with an e-mail address if given) and enroll an authenticator app; ends on the recovery-codes page. */
async function signUpWithApp(
  page: Page,
  baseUrl: string,
  username: string,
  options: { email?: string; shots?: boolean } = {},
): Promise<{ app: AuthenticatorApp; recoveryCodes: string[] }> {
  await page.goto(`${baseUrl}/sign-up`);
  if (options.shots === true) await screenshot(page, '02-sign-up');
  await page.fill('#username', username);
  if (options.email !== undefined) await page.fill('#email', options.email);
  await page.fill('#password', password);
  await page.click('button:has-text("Create account")');
  await page.waitForURL('**/enroll');
  if (options.shots === true) await screenshot(page, '03-choose-factor');
  await page.click('a:has-text("Authenticator app")');
  await page.waitForURL('**/enroll/totp');
  const secret = (await page.textContent('#totp-secret'))!.replace(/\s+/g, '');
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  expect(await page.locator('.qr svg').count()).toBe(1);
  if (options.shots === true) await screenshot(page, '04-authenticator-app');
  const app = new AuthenticatorApp(secret);
  await page.fill('#code', await app.nextCode());
  await page.click('button:has-text("Confirm")');
  await page.waitForSelector('#recovery-codes');
  const recoveryCodes = (await page.locator('#recovery-codes li').allTextContents()).map((code) => code.trim());
  return { app, recoveryCodes };
}

describe.runIf(haveChromium)('the hosted pages in Chromium', () => {
  let browser: Browser;
  let pages: RunningPages;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // A short resend interval, so the countdown shows and the test need not wait 30 s.
    [browser, pages] = await Promise.all([launchChromium(), startPages({ TWOFOLD_OTP_RESEND_INTERVAL_SECONDS: '4' })]);
  }, 60_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await pages?.dispose();
  });

  async function newPage(
    options: { javaScriptEnabled?: boolean; viewport?: { width: number; height: number }; userAgent?: string; timezoneId?: string; locale?: string } = {},
  ): Promise<{ page: Page; context: BrowserContext; violations: string[] }> {
    const context = await browser.newContext({
      javaScriptEnabled: options.javaScriptEnabled ?? true,
      viewport: options.viewport ?? { width: 1024, height: 800 },
      ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
      ...(options.timezoneId === undefined ? {} : { timezoneId: options.timezoneId }),
      ...(options.locale === undefined ? {} : { locale: options.locale }),
    });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    return { page, context, violations: watchForViolations(page) };
  }

  async function signIn(page: Page, username: string): Promise<void> {
    await page.goto(`${pages.url}/sign-in`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button:has-text("Continue")');
    await page.waitForURL('**/sign-in/verify');
  }

  it('home and sign-up pages: strict CSP, cookies __Host- HttpOnly Secure SameSite=Strict, labelled fields', async () => {
    const { page, context, violations } = await newPage();
    const response = await page.goto(`${pages.url}/`);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'; style-src 'self'.*frame-ancestors 'none'/);
    expect(response?.headers()['x-frame-options']).toBe('DENY');
    await screenshot(page, '01-home');
    await page.goto(`${pages.url}/sign-up`);
    const cookies = await context.cookies();
    const csrf = cookies.find((cookie) => cookie.name === '__Host-twofold-csrf');
    expect(csrf).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    // Every input has a label; the live region for errors exists.
    for (const id of ['username', 'password', 'email']) expect(await page.locator(`label[for="${id}"]`).count()).toBe(1);
    expect(await page.locator('[aria-live="polite"]').count()).toBe(1);
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(await page.locator('[style]').count()).toBe(0);
    expect(violations).toEqual([]);
  });

  it('sign up → secret → confirm → recovery codes → sign out → sign in with a TOTP code; a wrong code and a replayed code are refused', async () => {
    const { page, context, violations } = await newPage();
    const username = uniqueUsername('alice');
    const { app, recoveryCodes } = await signUpWithApp(page, pages.url, username, { shots: true });
    expect(recoveryCodes).toHaveLength(10);
    expect(await page.locator('a[download]').getAttribute('href')).toContain(encodeURIComponent(recoveryCodes[0]!));
    expect(await page.isVisible('button:has-text("Copy")')).toBe(true);
    await screenshot(page, '05-recovery-codes');
    const session = (await context.cookies()).filter((cookie) => cookie.name.startsWith('__Host-twofold-'));
    for (const cookie of session) expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    expect(session.map((cookie) => cookie.name)).toEqual(expect.arrayContaining(['__Host-twofold-access', '__Host-twofold-refresh']));

    await page.click('a:has-text("I saved them")');
    await page.waitForURL('**/account');
    await screenshot(page, '06-account');
    await page.click('header button:has-text("Sign out")');
    await page.waitForURL('**/sign-in?done=signed-out');
    expect(await page.textContent('[aria-live]')).toContain('signed out');

    await signIn(page, username);
    await screenshot(page, '07-second-factor');
    const code = page.locator('#code');
    expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await code.getAttribute('inputmode')).toBe('numeric');
    const wrong = (await app.nextCode()) === '000000' ? '111111' : '000000';
    await page.fill('#code', wrong);
    await page.click('button:has-text("Verify")');
    expect(await page.locator('#code').getAttribute('aria-invalid')).toBe('true');
    expect(await page.textContent('#code-error')).toMatch(/wrong/i);

    const good = await app.nextCode();
    await page.fill('#code', good);
    await page.click('button:has-text("Verify")');
    await page.waitForURL('**/account');

    // The same code again, in a new sign-in: refused.
    await page.click('header button:has-text("Sign out")');
    await signIn(page, username);
    await page.fill('#code', good);
    await page.click('button:has-text("Verify")');
    expect(page.url()).toContain('/sign-in/verify');
    expect(await page.textContent('#code-error')).toMatch(/already used|wrong/i);
    expect(violations).toEqual([]);
  });

  it('nothing on the sign-in page tells whether a username exists', async () => {
    const username = uniqueUsername('exists');
    await signUpWithApp((await newPage()).page, pages.url, username);
    const { page } = await newPage();
    const attempt = async (name: string) => {
      await page.goto(`${pages.url}/sign-in`);
      await page.fill('#username', name);
      await page.fill('#password', 'not the right password');
      await page.click('button:has-text("Continue")');
      // The page script re-announces the refusal in the live region (emptied, then set again after
      // a moment): read the page once the refusal stands there, not in between.
      await page.waitForLoadState('load');
      await page.locator('[data-error]', { hasText: 'incorrect' }).waitFor({ state: 'attached' });
      return page.textContent('main');
    };
    const known = await attempt(username);
    const unknownName = uniqueUsername('nobody');
    const unknown = await attempt(unknownName);
    expect(known).toContain('The username or password is incorrect.');
    // The same page, but for the name typed back into the field.
    expect(await page.inputValue('#username')).toBe(unknownName);
    expect(unknown?.replace(unknownName, '')).toBe(known?.replace(username, ''));
  });

  it('sign in with SMS: add a phone from the account, then get a code at sign-in (with a resend countdown)', async () => {
    const { page } = await newPage();
    const username = uniqueUsername('sms');
    await signUpWithApp(page, pages.url, username);
    await page.click('a:has-text("I saved them")');
    await page.click('a:has-text("Add a factor")');
    await page.fill('#phone', '+14155550142');
    await page.click('button:has-text("Send a code")');
    await page.waitForSelector('#code');
    await screenshot(page, '08-confirm-phone');
    await page.fill('#code', lastCodeSentTo(pages.dataDir, '+14155550142'));
    await page.click('button:has-text("Confirm")');
    await page.waitForURL('**/account?done=factor-added');
    expect(await page.locator('td:has-text("Text messages")').count()).toBe(1);

    await page.click('header button:has-text("Sign out")');
    await signIn(page, username);
    // The enrollment code went to this phone moments ago: a new one is refused until the interval passed.
    await page.click('button:has-text("Send a code: Text message")');
    expect(await page.textContent('main')).toMatch(/wait before asking for another/);
    await new Promise((resolve) => setTimeout(resolve, 4100));
    await page.click('button:has-text("Send a code: Text message")');
    await page.waitForSelector('#code');
    const resend = page.locator('button:has-text("Send a new code")');
    expect(await resend.isDisabled()).toBe(true);
    expect(await resend.textContent()).toMatch(/\(\d+ s\)/);
    await screenshot(page, '09-sms-code');
    await page.fill('#code', lastCodeSentTo(pages.dataDir, '+14155550142'));
    await page.click('button:has-text("Verify")');
    await page.waitForURL('**/account');
  });

  it('register a passkey and sign in with it (CDP virtual authenticator with user verification)', async () => {
    const { page, context, violations } = await newPage();
    const authenticator = await addPasskeyAuthenticator(context, page);
    const username = uniqueUsername('passkey');
    await page.goto(`${pages.url}/sign-up`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button:has-text("Create account")');
    await page.waitForURL('**/enroll');
    // Twofold cannot know how a device verifies its user: no page claims a fingerprint or a face.
    expect(await page.textContent('main')).not.toMatch(/fingerprint|face/i);
    await page.fill('#label', 'Test laptop');
    await page.click('button:has-text("Create a passkey")');
    // The page script runs the WebAuthn ceremony and posts the answer.
    await page.waitForSelector('#recovery-codes');
    await page.click('a:has-text("I saved them")');
    await page.waitForURL('**/account');
    expect(await page.locator('td:has-text("Passkey")').count()).toBe(1);

    // The passkey could sign in alone (passkey-sign-in.test.ts); here it is the second factor after
    // the password, so the sign-in page's autofill request is refused, as by a person who does not
    // pick it (Chromium's virtual authenticator answers such a request without asking).
    await authenticator.setUserVerified(false);
    await page.click('header button:has-text("Sign out")');
    await page.waitForURL('**/sign-in?done=signed-out');
    await page.goto(`${pages.url}/sign-in`);
    await page.locator('button:has-text("Sign in with a passkey")').waitFor();
    await screenshot(page, '18-sign-in-passkey');
    await signIn(page, username);
    await authenticator.setUserVerified(true);
    await page.click('button:has-text("Use passkey: Test laptop")');
    await page.waitForURL('**/account');
    expect(violations).toEqual([]);
    // Chromium's authenticator is a software one and no attestation roots are configured: a passkey
    // (swk), not a proven hardware key (hwk), however device-bound it says it is.
    const sqlite = new BetterSqlite3(join(pages.dataDir, 'twofold.db'), { readonly: true });
    try {
      const sessions = sqlite.prepare(`select s.amr from sessions s join users u on u.id = s.user_id where u.username = ? and s.amr <> '["pwd"]' order by s.created_at`).all(username) as Array<{ amr: string }>;
      expect(sessions.map((session) => JSON.parse(session.amr))).toEqual([['pwd', 'swk', 'mfa'], ['pwd', 'swk', 'mfa']]);
      const credential = sqlite.prepare('select c.attestation_format, c.attestation_root_sha256 from webauthn_credentials c join factors f on f.id = c.factor_id join users u on u.id = f.user_id where u.username = ?').get(username);
      expect(credential).toEqual({ attestation_format: 'none', attestation_root_sha256: null });
    } finally {
      sqlite.close();
    }
  });

  it('sign in with a recovery code', async () => {
    const { page } = await newPage();
    const username = uniqueUsername('recovery');
    const { recoveryCodes } = await signUpWithApp(page, pages.url, username);
    await page.click('a:has-text("I saved them")');
    await page.click('header button:has-text("Sign out")');
    await signIn(page, username);
    await page.click('a:has-text("Use a recovery code")');
    await page.fill('#recovery_code', recoveryCodes[3]!.toLowerCase());
    await page.click('button:has-text("Use recovery code")');
    await page.waitForURL('**/account');
    expect(await page.textContent('main')).toContain('9 unused recovery codes left');
  });

  it('ending a session on the account page signs that browser out', async () => {
    const first = await newPage();
    const username = uniqueUsername('sessions');
    const { app } = await signUpWithApp(first.page, pages.url, username);
    await first.page.click('a:has-text("I saved them")');

    // Whoever signs in says what browser they are: the page shows it as a claim, never as a fact.
    const second = await newPage({ userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1' });
    await signIn(second.page, username);
    await second.page.fill('#code', await app.nextCode());
    await second.page.click('button:has-text("Verify")');
    await second.page.waitForURL('**/account');

    await first.page.reload();
    expect(await first.page.textContent('section[aria-labelledby="sessions-heading"] thead')).toContain('Device (as its browser describes itself)');
    const otherRow = first.page.locator('tr[data-session-id]', { hasNotText: 'this browser' });
    expect(await otherRow.count()).toBe(1);
    // Named for people, the raw claim kept as the tooltip.
    expect(await otherRow.locator('[data-device]').textContent()).toBe('Safari on iPhone');
    expect(await otherRow.locator('[data-device]').getAttribute('title')).toContain('(iPhone; CPU iPhone OS 18_0 like Mac OS X)');
    expect(await first.page.locator('tr[data-session-id]', { hasText: 'this browser' }).locator('[data-device]').textContent()).toMatch(/^Chrome on Linux$/);
    await otherRow.locator('button:has-text("End session")').click();
    await first.page.waitForURL('**/account?done=session-ended');

    await second.page.goto(`${pages.url}/account`);
    await second.page.waitForURL('**/sign-in?done=sign-in-expired');
  });

  it('SS-02: two page loads at once after the access cookie expired — both signed in, one new refresh cookie, and the session survives', async () => {
    const { page, context } = await newPage();
    const username = uniqueUsername('twotabs');
    await signUpWithApp(page, pages.url, username);
    await page.click('a:has-text("I saved them")');
    await page.waitForURL('**/account');
    const refreshBefore = (await context.cookies()).find((cookie) => cookie.name === '__Host-twofold-refresh')!.value;
    // What the browser does when the access cookie's max-age runs out: it stops sending it.
    await context.clearCookies({ name: '__Host-twofold-access' });
    const tabs = [page, await context.newPage()];

    await Promise.all(tabs.map((tab) => tab.goto(`${pages.url}/account`)));

    for (const tab of tabs) {
      expect(new URL(tab.url()).pathname).toBe('/account');
      expect(await tab.textContent('main')).toContain(username);
    }
    const cookies = await context.cookies();
    const refreshAfter = cookies.find((cookie) => cookie.name === '__Host-twofold-refresh')?.value;
    expect(refreshAfter).toMatch(/^tfr_/);
    expect(refreshAfter).not.toBe(refreshBefore);
    expect(cookies.some((cookie) => cookie.name === '__Host-twofold-access')).toBe(true);
    // Still signed in after both, also when the next page load must refresh again.
    await context.clearCookies({ name: '__Host-twofold-access' });
    await tabs[1]!.reload();
    expect(new URL(tabs[1]!.url()).pathname).toBe('/account');
  });

  it('works without JavaScript: sign up, confirm the app, sign in', async () => {
    const { page } = await newPage({ javaScriptEnabled: false });
    const username = uniqueUsername('nojs');
    const { app } = await signUpWithApp(page, pages.url, username);
    expect(await page.isVisible('a:has-text("Download as text")')).toBe(true);
    await page.click('a:has-text("I saved them")');
    await page.click('header button:has-text("Sign out")');
    await signIn(page, username);
    await page.fill('#code', await app.nextCode());
    await page.click('button:has-text("Verify")');
    await page.waitForURL('**/account');
  });

  it('Codes typed with spaces or dashes are accepted: typing "028 853" submits the whole code, and no browser bubble blocks the form', async () => {
    const { page, violations } = await newPage();
    const username = uniqueUsername('spaced');
    await page.goto(`${pages.url}/sign-up`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button:has-text("Create account")');
    await page.waitForURL('**/enroll');
    await page.click('a:has-text("Authenticator app")');
    await page.waitForURL('**/enroll/totp');
    const secret = (await page.textContent('#totp-secret'))!.replace(/\s+/g, '');
    const app = new AuthenticatorApp(secret);

    // What the field is: a numeric one-time-code field with nothing that cuts or blocks input.
    const field = page.locator('#code');
    expect(await field.getAttribute('inputmode')).toBe('numeric');
    expect(await field.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await field.getAttribute('pattern')).toBeNull();
    expect(Number(await field.getAttribute('maxlength') ?? Infinity)).toBeGreaterThanOrEqual(32);
    expect(await page.locator('form:has(#code)').getAttribute('novalidate')).not.toBeNull();

    // Submitted empty: the server answers next to the field (a native bubble would keep the page).
    await page.click('button:has-text("Confirm")');
    await page.waitForSelector('#code-error');
    expect(await page.textContent('#code-error')).toContain('6-digit code');
    expect(await page.textContent('#totp-secret')).toBe(secret);
    expect(await page.textContent('#attempts-left')).toContain('You have 5 tries');

    // Typed key by key as the app shows it, with a space: the field keeps all of it, the server takes it.
    const code = await app.nextCode();
    const typed = `${code.slice(0, 3)} ${code.slice(3)}`;
    await page.locator('#code').pressSequentially(typed);
    expect(await page.inputValue('#code')).toBe(typed);
    await page.click('button:has-text("Confirm")');
    await page.waitForSelector('#recovery-codes');

    // And at sign-in, with a dash.
    await page.click('a:has-text("I saved them")');
    await page.click('header button:has-text("Sign out")');
    await signIn(page, username);
    const next = await app.nextCode();
    const dashed = `${next.slice(0, 3)}-${next.slice(3)}`;
    await page.locator('#code').pressSequentially(dashed);
    expect(await page.inputValue('#code')).toBe(dashed);
    await page.click('button:has-text("Verify")');
    await page.waitForURL('**/account');
    expect(violations).toEqual([]);
  });

  it('keyboard only, on a phone-sized screen: sign in with Tab and Enter', async () => {
    const { page } = await newPage({ viewport: { width: 390, height: 844 } });
    const username = uniqueUsername('keys');
    const { app } = await signUpWithApp(page, pages.url, username);
    await page.click('a:has-text("I saved them")');
    await page.click('header button:has-text("Sign out")');
    await page.goto(`${pages.url}/sign-in`);
    await screenshot(page, '10-sign-in-phone');
    // Keys go wherever the focus is when they are pressed, and autofocus lands a moment after the
    // page has loaded (later on a busy machine): each key waits for the focus it needs, not a time.
    await focusOn(page, 'username'); // autofocus
    await page.keyboard.type(username);
    await page.keyboard.press('Tab');
    await focusOn(page, 'password');
    await page.keyboard.type(password);
    await page.keyboard.press('Enter');
    await page.waitForURL('**/sign-in/verify');
    await focusOn(page, 'code'); // autofocus
    await page.keyboard.type(await app.nextCode());
    await page.keyboard.press('Enter');
    await page.waitForURL('**/account');
  }, 90_000);

  it('a forged form (no CSRF token) is refused and changes nothing', async () => {
    const { page } = await newPage();
    const response = await page.request.post(`${pages.url}/sign-in`, { form: { username: 'someone', password: 'whatever it is' } });
    expect(response.status()).toBe(403);
    expect(await response.text()).toContain('This form has expired');
  });

  it('MG-01: forgot password — the mailed code sets a new password, and the next sign-in still asks for the second factor', async () => {
    const { page, violations } = await newPage();
    const username = uniqueUsername('forgot');
    const address = `${username}@example.com`;
    const { app } = await signUpWithApp(page, pages.url, username, { email: address });
    await page.click('a:has-text("I saved them")');
    // RC-02: until its owner follows the mailed link, the address gets no reset code.
    expect(await page.textContent('[data-email-status]')).toContain('not confirmed yet');
    await page.goto(await verificationLinkSentTo(pages.dataDir, address));
    await page.click('button:has-text("Confirm my address")');
    expect(await page.textContent('main')).toContain('Your address is confirmed');
    await page.goto(`${pages.url}/account`);
    expect(await page.getAttribute('[data-email-status]', 'data-email-status')).toBe('verified');
    await page.click('header button:has-text("Sign out")');

    await page.goto(`${pages.url}/sign-in`);
    await page.click('a:has-text("Forgot your password?")');
    await page.waitForURL('**/forgot-password');
    await screenshot(page, '12-forgot-password');
    await page.fill('#username', username);
    await page.click('button:has-text("Send a reset code")');
    // The same answer whether or not the account exists.
    expect(await page.textContent('main')).toContain('If that account exists');
    await page.click('a:has-text("I have a code")');
    await page.fill('#username', username);
    await page.fill('#code', 'AAAAA-BBBBB-CCCCC-DDDDD');
    await page.fill('#new_password', 'a completely new passphrase');
    await page.click('button:has-text("Set the new password")');
    expect(await page.textContent('main')).toContain('The reset code is wrong');
    await page.fill('#code', await resetCodeSentTo(pages.dataDir, address));
    await page.fill('#new_password', 'a completely new passphrase');
    await page.click('button:has-text("Set the new password")');
    await page.waitForURL('**/sign-in?done=password-reset');
    expect(await page.textContent('main')).toContain('you will still need your second factor');

    // The old password is dead; the new one leads to the second-factor prompt, not into the account.
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button:has-text("Continue")');
    expect(page.url()).not.toContain('/sign-in/verify');
    await page.fill('#username', username);
    await page.fill('#password', 'a completely new passphrase');
    await page.click('button:has-text("Continue")');
    await page.waitForURL('**/sign-in/verify');
    await page.fill('#code', await app.nextCode());
    await page.click('button:has-text("Verify")');
    await page.waitForURL('**/account');
    expect(violations).toEqual([]);
  });

  it('remember this browser: the next sign-in skips the code; forgetting the browser brings the prompt back', async () => {
    const { page, violations } = await newPage();
    const username = uniqueUsername('remember');
    const { app } = await signUpWithApp(page, pages.url, username);
    await page.click('a:has-text("I saved them")');
    await page.click('header button:has-text("Sign out")');

    await signIn(page, username);
    await page.check('input[name="remember_device"]');
    await page.fill('#code', await app.nextCode());
    await page.click('button:has-text("Verify")');
    await page.waitForURL('**/account');
    await page.click('header button:has-text("Sign out")');

    // Password only: the remembered browser stands in for the second factor.
    await page.goto(`${pages.url}/sign-in`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button:has-text("Continue")');
    await page.waitForURL('**/account');
    const device = page.locator('tr[data-device-id]');
    expect(await device.count()).toBe(1);
    await screenshot(page, '13-remembered-browser');
    await device.locator('button:has-text("Forget")').click();
    await page.waitForURL('**/account**');
    expect(await page.locator('tr[data-device-id]').count()).toBe(0);
    await page.click('header button:has-text("Sign out")');

    await signIn(page, username);
    expect(await page.locator('#code').count()).toBe(1);
    expect(violations).toEqual([]);
  });

  it('the TOTP key on a phone: groups of four that wrap between groups, never inside one; selecting or copying it gives the bare key', async () => {
    const { page, context, violations } = await newPage({ viewport: { width: 320, height: 640 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: pages.url });
    await page.goto(`${pages.url}/sign-up`);
    await page.fill('#username', uniqueUsername('groups'));
    await page.fill('#password', password);
    await page.click('button:has-text("Create account")');
    await page.click('a:has-text("Authenticator app")');
    await page.waitForURL('**/enroll/totp');
    const key = (await page.textContent('#totp-secret'))!;
    expect(key).toMatch(/^[A-Z2-7]{32}$/);
    const groups = await boxesOf(page, '#totp-secret .group');
    expect(groups.map((group) => group.text).join('')).toBe(key);
    expect(groups.every((group) => group.text.length === 4)).toBe(true);
    // Every group is one line of the same height, inside the screen; the key as a whole does wrap here.
    for (const group of groups) {
      expect(Math.abs(group.box.height - groups[0]!.box.height)).toBeLessThan(1);
      expect(group.box.right).toBeLessThanOrEqual(320);
    }
    expect(new Set(groups.map((group) => Math.round(group.box.top))).size).toBeGreaterThan(1);
    const selected = await page.evaluate<string>(`(() => {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById('totp-secret'));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      return getSelection().toString();
    })()`);
    expect(selected).toBe(key);
    await page.click('button:has-text("Copy key")');
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(key);
    expect(await page.textContent('button[data-copy-target="totp-secret"]')).toBe('Copied');
    expect(violations).toEqual([]);
  });

  it('times on the account page are shown in the browser’s own time zone, the UTC text kept as a tooltip', async () => {
    const { page, violations } = await newPage({ timezoneId: 'Asia/Kolkata', locale: 'en-GB' });
    await signUpWithApp(page, pages.url, uniqueUsername('zone'));
    await page.click('a:has-text("I saved them")');
    await page.waitForURL('**/account');
    const times = await page.evaluate<Array<{ iso: string; precision: string; text: string; title: string }>>(
      `[...document.querySelectorAll('time[data-local]')].map((element) => ({ iso: element.dateTime, precision: element.dataset.local, text: element.textContent, title: element.title }))`,
    );
    expect(times.length).toBeGreaterThanOrEqual(3);
    for (const time of times) {
      expect(time.title).toBe(time.precision === 'day' ? time.iso.slice(0, 10) : `${time.iso.slice(0, 16).replace('T', ' ')} UTC`);
      expect(time.text).not.toContain('UTC');
      // India is UTC+05:30 all year: the minutes alone show the zone was applied.
      const there = new Date(Date.parse(time.iso) + 330 * 60_000);
      const clock = `${String(there.getUTCHours()).padStart(2, '0')}:${String(there.getUTCMinutes()).padStart(2, '0')}`;
      if (time.precision === 'minute') expect(time.text).toContain(clock);
      expect(time.text).toContain(String(there.getUTCFullYear()));
    }
    expect(violations).toEqual([]);
  });

  it('after a refused form, focus moves to the field at fault and the live region says what is wrong', async () => {
    const { page, violations } = await newPage();
    await page.goto(`${pages.url}/sign-up`);
    await page.fill('#username', uniqueUsername('weak'));
    await page.fill('#password', 'short');
    await page.click('button:has-text("Create account")');
    await page.waitForSelector('#password[aria-invalid="true"]');
    // The username field has autofocus; the script moves focus to where the problem is.
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('password');
    // (Polled from here: waitForFunction would evaluate text in the page, which its CSP forbids.)
    const passwordError = (await page.textContent('#password-error'))!.trim();
    await expect.poll(() => page.textContent('[aria-live]')).toBe(`Password: ${passwordError}`);

    // Deep down the account page: the field is focused and scrolled into view.
    const username = uniqueUsername('focus');
    await signUpWithApp(page, pages.url, username);
    await page.click('a:has-text("I saved them")');
    await page.waitForURL('**/account');
    await page.fill('#current_password', 'not my password at all');
    await page.fill('#new_password', 'a brand new passphrase');
    await page.click('button:has-text("Change password")');
    await page.waitForSelector('#current_password[aria-invalid="true"]');
    expect(await page.evaluate<string>('document.activeElement.id')).toBe('current_password');
    expect(await page.locator('#current_password').isVisible()).toBe(true);
    const inView = await page.evaluate<boolean>(`(() => {
      const box = document.getElementById('current_password').getBoundingClientRect();
      return box.top >= 0 && box.bottom <= window.innerHeight;
    })()`);
    expect(inView).toBe(true);
    await expect.poll(() => page.textContent('[aria-live]')).toBe(`Current password: ${(await page.textContent('#current_password-error'))!.trim()}`);
    expect(violations).toEqual([]);
  });

  it('the factor chooser: cards of one size, exactly one recommended, first, with its reason', async () => {
    for (const viewport of [{ width: 1024, height: 800 }, { width: 375, height: 667 }]) {
      const { page } = await newPage({ viewport });
      await page.goto(`${pages.url}/sign-up`);
      await page.fill('#username', uniqueUsername('choose'));
      await page.fill('#password', password);
      await page.click('button:has-text("Create account")');
      await page.waitForURL('**/enroll');
      const cards = await boxesOf(page, '.choice-cards > .card');
      expect(cards.length).toBe(3);
      expect(cards.map((card) => card.recommended)).toEqual([true, false, false]);
      for (const card of cards) expect(Math.abs(card.box.width - cards[0]!.box.width), `width at ${viewport.width}px`).toBeLessThan(1);
      // Side by side, one height too.
      if (viewport.width === 1024) for (const card of cards) expect(Math.abs(card.box.height - cards[0]!.box.height)).toBeLessThan(1);
      expect(await page.locator('[data-recommended] .badge').textContent()).toBe('Recommended');
      expect(await page.locator('[data-recommended] .recommended').isVisible()).toBe(true);
      if (viewport.width === 375) await screenshot(page, '15-choose-factor-phone');
    }
  });

  it('"Not you? Cancel" on the second-factor page ends that sign-in and returns to an empty sign-in form', async () => {
    const { page, violations } = await newPage();
    const username = uniqueUsername('notme');
    await signUpWithApp(page, pages.url, username);
    await page.click('a:has-text("I saved them")');
    await page.click('header button:has-text("Sign out")');
    await signIn(page, username);
    expect(await page.textContent('[data-username]')).toBe(username);
    expect(await page.locator('header a:has-text("Sign in")').count()).toBe(0);
    await page.click('button:has-text("Not you? Cancel")');
    await page.waitForURL('**/sign-in?done=sign-in-cancelled');
    expect(await page.inputValue('#username')).toBe('');
    expect(await page.textContent('[aria-live]')).toContain('That sign-in was cancelled.');
    await page.goto(`${pages.url}/sign-in/verify`);
    await page.waitForURL('**/sign-in?done=sign-in-expired');
    expect(violations).toEqual([]);
  });

  it('on a phone (375×667) no hosted page is wider than the screen, and nothing sticks out or is cut off', async () => {
    const { page, violations } = await newPage({ viewport: { width: 375, height: 667 }, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1' });
    const checked: string[] = [];
    const check = async (what: string, shot?: string) => {
      await page.waitForLoadState('load');
      expect(await horizontalOverflow(page), what).toEqual([]);
      checked.push(what);
      if (shot !== undefined) await screenshot(page, shot);
    };
    for (const path of ['/', '/sign-up', '/sign-in', '/forgot-password', '/reset-password', '/verify-email?token=incomplete']) {
      await page.goto(`${pages.url}${path}`);
      await check(path);
    }
    const username = uniqueUsername('phone');
    await page.goto(`${pages.url}/sign-up`);
    await page.fill('#username', username);
    await page.fill('#password', 'short');
    await page.click('button:has-text("Create account")');
    await check('sign-up with an error');
    await page.fill('#password', password);
    await page.click('button:has-text("Create account")');
    await page.waitForURL('**/enroll');
    await check('choose the first factor');
    await page.click('a:has-text("Authenticator app")');
    await page.waitForURL('**/enroll/totp');
    await check('authenticator app', '16-authenticator-app-phone');
    const app = new AuthenticatorApp((await page.textContent('#totp-secret'))!);
    await page.fill('#code', '000000' === (await app.nextCode()) ? '111111' : '000000');
    await page.click('button:has-text("Confirm")');
    await check('a wrong confirmation code');
    await page.fill('#code', await app.nextCode());
    await page.click('button:has-text("Confirm")');
    await page.waitForSelector('#recovery-codes');
    await check('recovery codes');
    await page.click('a:has-text("I saved them")');
    // A phone number too, so the account page has more than one factor and a long detail.
    await page.click('a:has-text("Add a factor")');
    await check('add a factor');
    await page.fill('#phone', '+14155550199');
    await page.click('button:has-text("Send a code")');
    await page.waitForSelector('#code');
    await check('confirm the phone');
    await page.fill('#code', lastCodeSentTo(pages.dataDir, '+14155550199'));
    await page.click('button:has-text("Confirm")');
    await page.waitForURL('**/account?done=factor-added');
    await check('account', '14-account-phone');
    await page.goto(`${pages.url}/account/events`);
    await check('security events');
    await page.goto(`${pages.url}/account/events?before=not-a-cursor`);
    await check('an error page');
    await page.goto(`${pages.url}/account/verify`);
    await check('step-up');
    await page.click('header button:has-text("Sign out")');
    await page.waitForURL('**/sign-in?done=signed-out');
    await signIn(page, username);
    await check('second factor', '17-second-factor-phone');
    await page.goto(`${pages.url}/sign-in/verify?method=recovery`);
    await check('recovery code');
    expect(checked).toHaveLength(19);
    expect(violations).toEqual([]);
  });
});

describe.runIf(haveChromium)('step-up and return_to in Chromium', () => {
  let browser: Browser;
  let pages: RunningPages;
  let appServer: Server;
  let appOrigin: string;

  beforeAll(async () => {
    const appPort = await findFreePort();
    appOrigin = `http://localhost:${appPort}`;
    appServer = createServer((_request, response) => response.end('<!doctype html><title>The app</title><p>Welcome back to the app</p>'));
    await new Promise<void>((resolve) => appServer.listen(appPort, 'localhost', resolve));
    [browser, pages] = await Promise.all([launchChromium(), startPages({ TWOFOLD_STEP_UP_MAX_AGE_SECONDS: '2', TWOFOLD_ALLOWED_REDIRECTS: appOrigin })]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await pages?.dispose();
    await new Promise((resolve) => appServer?.close(resolve));
  });

  it('removing a factor asks for a fresh second factor first (step-up), then works', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const username = uniqueUsername('stepup');
    const { app } = await signUpWithApp(page, pages.url, username);
    await page.click('a:has-text("I saved them")');

    // A second app, so there is something that may be removed. Adding it also needs a fresh factor by now.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await page.goto(`${pages.url}/enroll/totp`);
    await page.waitForURL('**/account/verify?next=%2Fenroll%2Ftotp');
    await page.fill('#code', await app.nextCode());
    await page.click('button:has-text("Verify")');
    await page.waitForURL('**/enroll/totp');
    const second = new AuthenticatorApp((await page.textContent('#totp-secret'))!.replace(/\s+/g, ''));
    await page.fill('#code', await second.nextCode());
    await page.click('button:has-text("Confirm")');
    await page.waitForURL('**/account?done=factor-added');

    await new Promise((resolve) => setTimeout(resolve, 2100));
    await page.locator('tr[data-factor-id]').first().locator('button:has-text("Remove")').click();
    await page.waitForURL('**/account/verify?next=/account');
    await screenshot(page, '11-step-up');
    await page.fill('#code', await second.nextCode());
    await page.click('button:has-text("Verify")');
    await page.waitForURL('**/account?done=verified');
    await page.locator('tr[data-factor-id]').first().locator('button:has-text("Remove")').click();
    await page.waitForURL('**/account?done=factor-removed');
    expect(await page.locator('tr[data-factor-id]').count()).toBe(1);
    await context.close();
  });

  it('return_to: an allow-listed origin is where a person lands after signing in; any other is ignored', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const username = uniqueUsername('return');
    const { app } = await signUpWithApp(page, pages.url, username);
    await page.click('a:has-text("I saved them")');
    await page.click('header button:has-text("Sign out")');

    await page.goto(`${pages.url}/sign-in?return_to=${encodeURIComponent('https://evil.example/steal')}`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button:has-text("Continue")');
    await page.fill('#code', await app.nextCode());
    await page.click('button:has-text("Verify")');
    await page.waitForURL(`${pages.url}/account`);
    await page.click('header button:has-text("Sign out")');

    await page.goto(`${pages.url}/sign-in?return_to=${encodeURIComponent(`${appOrigin}/after-sign-in`)}`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await page.click('button:has-text("Continue")');
    await page.fill('#code', await app.nextCode());
    await page.click('button:has-text("Verify")');
    await page.waitForURL(`${appOrigin}/after-sign-in`);
    expect(await page.textContent('p')).toBe('Welcome back to the app');
    await context.close();
  });

});
