// Going passwordless on the account page in real Chromium (PW-15, PW-17, PW-18): a passkey made
// with the CDP virtual authenticator as the first factor (recovery codes come with it) and a
// confirmed e-mail address (where a reset goes: the codes' way back in), "Remove
// password" behind the step-up (proven with the passkey), "Set a password" offered afterwards, and
// a password sign-in to the passwordless account refused with the very words of a wrong password.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPasskeyAuthenticator, chromiumAvailable, signUpWithPasskeyOnPages, launchChromium, watchForViolations } from '../helpers/browser.js';
import { strongPassword, uniqueUsername } from '../helpers/flow.js';
import { verificationLinkSentTo } from '../helpers/outbox.js';
import { findFreePort, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { requirement } from '../helpers/requirements.js';
import { testEnvironment } from '../helpers/twofold.js';

const haveChromium = requirement('Chromium', chromiumAvailable, 'apt-get install -y chromium (Debian package; never a downloaded browser)');

describe.runIf(haveChromium)('going passwordless in Chromium', () => {
  let browser: Browser;
  let server: ServerProcess;
  let url: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'twofold-passwordless-'));
    const port = await findFreePort();
    url = `http://localhost:${port}`;
    // A step-up window of 2 s, so the test sees the detour without waiting minutes.
    const env = testEnvironment(dataDir, { TWOFOLD_PORT: String(port), TWOFOLD_HOST: 'localhost', TWOFOLD_PUBLIC_URL: url, TWOFOLD_LOG_LEVEL: 'warn', TWOFOLD_STEP_UP_MAX_AGE_SECONDS: '2' });
    [browser, server] = await Promise.all([launchChromium(), startServerProcess({ command: process.execPath, args: ['dist/cli/main.js', 'serve'], env, port })]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('PW-15/PW-17/PW-18: a passkey and recovery codes → "Remove password" after a step-up with the passkey → "Set a password" offered; the old password fails like a wrong one', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const violations = watchForViolations(page);
    const authenticator = await addPasskeyAuthenticator(context, page);
    const username = uniqueUsername('nopass');
    const address = `${username}@example.com`;
    await signUpWithPasskeyOnPages(page, url, { username, password: strongPassword, email: address });
    // One passkey and recovery codes, but no address a reset could reach: not yet.
    expect(await page.locator('form[action="/account/password/remove"]').count()).toBe(0);
    expect(await page.textContent('main')).toContain('verify an e-mail address or phone');
    await page.goto(await verificationLinkSentTo(dataDir, address));
    await page.click('button:has-text("Confirm my address")');
    await page.goto(`${url}/account`);

    const remove = page.locator('form[action="/account/password/remove"] button:has-text("Remove password")');
    expect(await remove.count()).toBe(1);
    // The passkey was proven at sign-up more than 2 s ago: the step-up first, with the same passkey.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await remove.click();
    await page.waitForURL('**/account/verify?next=/account');
    expect(await page.locator('form[action="/account/password/remove"]').count()).toBe(0);
    await page.click('button:has-text("Use passkey: Laptop")');
    await page.waitForURL('**/account?done=verified');
    await page.locator('form[action="/account/password/remove"] button').click();
    await page.waitForURL('**/account?done=password-removed');
    expect(await page.textContent('main')).toContain('you sign in with a passkey alone now');
    expect(await page.locator('section[data-password="none"] button:has-text("Set a password")').count()).toBe(1);
    expect(await page.locator('#current_password').count()).toBe(0);

    // Signed out, the old password is answered as any wrong password is. (The sign-in page's
    // passkey autofill request is refused first, as by a person who does not pick the passkey:
    // Chromium's virtual authenticator would answer it without asking. Refused before signing out:
    // the page signing out lands on is a sign-in page too, whose autofill request would otherwise
    // race the refusal and could sign the person straight back in.)
    await authenticator.setUserVerified(false);
    await page.click('header button:has-text("Sign out")');
    await page.waitForURL('**/sign-in?done=signed-out');
    const attempt = async (password: string) => {
      await page.goto(`${url}/sign-in`);
      await page.locator('form[data-passkey-sign-in][data-conditional-state="ended"]').waitFor({ state: 'attached' });
      await page.fill('#username', username);
      await page.fill('#password', password);
      const answered = page.waitForResponse((response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/sign-in');
      await page.click('button:has-text("Continue")');
      const answer = await answered;
      await page.waitForLoadState();
      expect(page.url()).not.toContain('/sign-in/verify');
      return { status: answer.status(), text: (await page.textContent('main'))!.replace(/\s+/g, ' ') };
    };
    const oldPassword = await attempt(strongPassword);
    const wrongPassword = await attempt('certainly not the password');
    expect(oldPassword).toEqual(wrongPassword);
    expect(oldPassword.text).toContain('The username or password is incorrect.');

    // And the passkey alone signs the passwordless account in, with two factors.
    // Left first: the last sign-in page's own autofill request would answer the moment the
    // authenticator verifies again, racing the navigation below. The new page's autofill may then
    // sign in before it finished loading: wait for the navigation to commit only.
    await page.goto('about:blank');
    await authenticator.setUserVerified(true);
    await page.goto(`${url}/sign-in`, { waitUntil: 'commit' });
    await page.waitForURL('**/account');
    expect(await page.textContent('main')).toContain(username);
    expect(violations).toEqual([]);
    await context.close();
  });
});
