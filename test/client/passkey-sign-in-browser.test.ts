// twofold/client's passkey sign-in in real Chromium: the SDK bundled by esbuild (with the real
// @simplewebauthn/browser inside) on a page of Twofold's public origin, a CDP virtual authenticator
// with user verification, and the real server behind it. The page's origin is the test public URL
// (http://twofold.test, made a secure context by a Chromium switch); its requests are carried to the
// listening server, so the passkey's origin and RP ID are the ones the server checks.
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addVirtualAuthenticator, chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/client-server.js';
import { strongPassword, uniqueUsername } from '../helpers/flow.js';
import { testPublicUrl } from '../helpers/twofold.js';

const pagePath = '/sdk-test-page';
// The username field conditional mediation fills: the page the README's helper is written for.
const pageHtml = (bundle: string) =>
  `<!doctype html><meta charset="utf-8"><title>SDK</title><form><input id="username" autocomplete="username webauthn"><input type="password" autocomplete="current-password"></form><script>${bundle}</script>`;

describe.runIf(chromiumAvailable)('twofold/client in Chromium: passkey sign-in with the real WebAuthn', () => {
  let t: ListeningTwofold;
  let browser: Browser;
  let bundle: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const built = await build({ entryPoints: ['src/client/index.ts'], bundle: true, platform: 'browser', format: 'iife', globalName: 'Twofold', target: 'es2020', write: false, logLevel: 'silent' });
    bundle = built.outputFiles[0]!.text;
    [t, browser] = await Promise.all([startListeningTwofold(), launchChromium([`--unsafely-treat-insecure-origin-as-secure=${testPublicUrl}`])]);
  }, 60_000);
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await t?.close();
  });

  /**
   * A page at the public origin with the SDK loaded; `requests` lists the API calls it made. The
   * virtual authenticator answers a conditional request at once (picking its passkey, or refusing
   * without one); with `personPresent: false` it waits, as a person who has not picked anything.
   */
  async function sdkPage(options: { personPresent?: boolean } = {}): Promise<{ page: Page; requests: string[] }> {
    const context = await browser.newContext();
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const requests: string[] = [];
    await context.route(`${testPublicUrl}/**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === pagePath) return route.fulfill({ contentType: 'text/html', body: pageHtml(bundle) });
      requests.push(`${route.request().method()} ${url.pathname}`);
      const response = await route.fetch({ url: `${t.baseUrl}${url.pathname}${url.search}` });
      return route.fulfill({ response });
    });
    const page = await context.newPage();
    await addVirtualAuthenticator(context, page, { automaticPresenceSimulation: options.personPresent ?? true });
    await page.goto(`${testPublicUrl}${pagePath}`);
    return { page, requests };
  }

  it('the conditional helper waits in the autofill and, aborted because a password was typed, resolves undefined and signs nobody in', async () => {
    const { page, requests } = await sdkPage({ personPresent: false });
    const available = await page.evaluate(() => (globalThis as any).PublicKeyCredential.isConditionalMediationAvailable());
    expect(available).toBe(true);
    const outcome = await page.evaluate(async () => {
      // The test's own types have no DOM: the page's globals are read as they are.
      const { navigator, location } = globalThis as any;
      // Watches the browser's own request: how it was asked for, and how it ended.
      const requested: string[] = [];
      const ended: string[] = [];
      const get = navigator.credentials.get.bind(navigator.credentials);
      navigator.credentials.get = (options?: { mediation?: string }) => {
        requested.push(String(options?.mediation));
        const pending = get(options);
        pending.then(
          () => ended.push('resolved'),
          (error: Error) => ended.push(error.name),
        );
        return pending;
      };
      const twofold = (globalThis as any).Twofold.createTwofoldClient({ baseUrl: location.origin });
      const typedPassword = new AbortController();
      const started = twofold.startConditionalPasskeySignIn({ signal: typedPassword.signal });
      // Waiting in the autofill: nothing resolves until the person picks a passkey (they hold none here).
      const early = await Promise.race([started.then(() => 'settled'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 500))]);
      typedPassword.abort();
      const result = await started;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { early, result: result === undefined ? 'undefined' : 'signed-in', tokens: (await twofold.getTokens()) === undefined ? 'none' : 'stored', requested, ended };
    });
    // The request was conditional, and the abort ended it in the browser too (not left holding the autofill).
    expect(outcome).toEqual({ early: 'waiting', result: 'undefined', tokens: 'none', requested: ['conditional'], ended: ['AbortError'] });
    expect(requests).toEqual(['POST /v1/passkeys/authenticate/options']);
  });

  it('WA-09: with a passkey in the autofill, picking it (Chromium\'s virtual authenticator picks at once) signs the account in through the conditional helper', async () => {
    const { page, requests } = await sdkPage();
    const username = uniqueUsername('chromium-conditional');
    const outcome = await page.evaluate(
      async ({ username, password }) => {
        const { Twofold, location } = globalThis as any;
        const { createTwofoldClient } = Twofold;
        const registration = await createTwofoldClient({ baseUrl: location.origin }).register({ username, password });
        await registration.pending.enrollPasskey({ label: 'Chromium' });
        const device = createTwofoldClient({ baseUrl: location.origin });
        const result = await device.startConditionalPasskeySignIn({ acrValues: ['phr'] });
        return { userId: registration.user.id, signedInAs: result === undefined ? null : (await device.getMe()).user.id };
      },
      { username, password: strongPassword },
    );
    expect(outcome.signedInAs).toBe(outcome.userId);
    expect(requests.filter((request) => request.includes('/v1/passkeys/authenticate'))).toEqual(['POST /v1/passkeys/authenticate/options', 'POST /v1/passkeys/authenticate']);
  });

  it('WA-09, WA-10: signInWithPasskey() with the browser\'s own prompt signs in an account by its passkey alone; acrValues ["phr"] gives acr phr', async () => {
    const { page, requests } = await sdkPage();
    const username = uniqueUsername('chromium-passkey');
    const outcome = await page.evaluate(
      async ({ username, password }) => {
        const { Twofold, location } = globalThis as any;
        const { createTwofoldClient } = Twofold;
        const signUp = createTwofoldClient({ baseUrl: location.origin });
        const registration = await signUp.register({ username, password });
        await registration.pending.enrollPasskey({ label: 'Chromium' });
        const device = createTwofoldClient({ baseUrl: location.origin });
        const plain = await device.signInWithPasskey();
        const phishingResistant = await device.signInWithPasskey({ acrValues: ['phr'] });
        const claimsOf = (token: string) => JSON.parse((globalThis as any).atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
        return { userId: registration.user.id, me: (await device.getMe()).user.id, plain: claimsOf(plain.tokens.accessToken), phr: claimsOf(phishingResistant.tokens.accessToken) };
      },
      { username, password: strongPassword },
    );
    expect(outcome.me).toBe(outcome.userId);
    expect(outcome.plain).toMatchObject({ sub: outcome.userId, acr: 'aal2', amr: ['swk', 'mfa'] });
    expect(outcome.phr).toMatchObject({ sub: outcome.userId, acr: 'phr' });
    expect(requests.filter((request) => request.includes('/v1/passkeys/authenticate'))).toEqual([
      'POST /v1/passkeys/authenticate/options',
      'POST /v1/passkeys/authenticate',
      'POST /v1/passkeys/authenticate/options',
      'POST /v1/passkeys/authenticate',
    ]);
  });
});
