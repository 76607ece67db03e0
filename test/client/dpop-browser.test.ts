// twofold/client's DPoP in real Chromium: the SDK bundled by esbuild on a page of Twofold's public
// origin (a secure context by a Chromium switch, so WebCrypto and IndexedDB are the browser's own),
// the real server behind it. The key the SDK makes is non-extractable, lives in IndexedDB, and is
// the same key after a reload — the refresh token bound to it keeps working there.
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addVirtualAuthenticator, chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/client-server.js';
import { strongPassword, uniqueUsername } from '../helpers/flow.js';
import { testPublicUrl } from '../helpers/twofold.js';

const pagePath = '/sdk-dpop-page';
const pageHtml = (bundle: string) => `<!doctype html><meta charset="utf-8"><title>SDK</title><script>${bundle}</script>`;

describe.runIf(chromiumAvailable)('twofold/client in Chromium: DPoP with a key kept in IndexedDB', () => {
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

  /** A page at the public origin with the SDK loaded; `requests` lists the API calls and whether each carried a DPoP proof. */
  async function sdkPage(): Promise<{ page: Page; requests: string[] }> {
    const context = await browser.newContext();
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const requests: string[] = [];
    await context.route(`${testPublicUrl}/**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === pagePath) return route.fulfill({ contentType: 'text/html', body: pageHtml(bundle) });
      const headers = route.request().headers();
      requests.push(`${route.request().method()} ${url.pathname} ${headers['dpop'] === undefined ? 'no-proof' : 'proof'} ${headers['authorization']?.split(' ')[0] ?? '-'}`);
      const response = await route.fetch({ url: `${t.baseUrl}${url.pathname}${url.search}` });
      return route.fulfill({ response });
    });
    const page = await context.newPage();
    await addVirtualAuthenticator(context, page);
    await page.goto(`${testPublicUrl}${pagePath}`);
    return { page, requests };
  }

  it('DP-29, DP-31, DP-33: sign-up with a passkey binds the tokens to a non-extractable key in IndexedDB; after a reload the same key refreshes (same cnf.jkt) and calls the API', async () => {
    const { page, requests } = await sdkPage();
    const before = await page.evaluate(
      async ({ username, password, serverNow }) => {
        const { Twofold, location, localStorage, indexedDB, crypto } = globalThis as any;
        // The app persists the tokens itself (the SDK's default is memory); the key is the SDK's, in IndexedDB.
        const tokenStore = {
          get: () => JSON.parse(localStorage.getItem('tokens') ?? 'null') ?? undefined,
          set: (tokens: unknown) => localStorage.setItem('tokens', JSON.stringify(tokens)),
          clear: () => localStorage.removeItem('tokens'),
        };
        const twofold = Twofold.createTwofoldClient({ baseUrl: location.origin, dpop: true, tokenStore, now: () => serverNow });
        const registration = await twofold.register({ username, password });
        const signIn = await registration.pending.enrollPasskey({ label: 'Chromium' });
        const me = await twofold.getMe();
        // What IndexedDB holds: CryptoKeys as such, the private one not extractable.
        const stored: any = await new Promise((resolve, reject) => {
          const open = indexedDB.open('twofold-client');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const read = open.result.transaction('dpop-keys', 'readonly').objectStore('dpop-keys').get(location.origin);
            read.onsuccess = () => resolve(read.result);
            read.onerror = () => reject(read.error);
          };
        });
        const exportRefused = await crypto.subtle.exportKey('jwk', stored.privateKey).then(
          () => 'exported',
          (error: Error) => error.name,
        );
        return {
          userId: registration.user.id,
          meId: me.user.id,
          tokenType: signIn.tokens.tokenType,
          accessToken: signIn.tokens.accessToken,
          jkt: await twofold.dpopThumbprint(),
          storedKey: { isCryptoKey: stored.privateKey instanceof (globalThis as any).CryptoKey, extractable: stored.privateKey.extractable, type: stored.privateKey.type, algorithm: stored.privateKey.algorithm },
          exportRefused,
        };
      },
      // The test server's clock stands still at its own time; proofs (iat) and expiry follow it.
      { username: uniqueUsername('chromium-dpop'), password: strongPassword, serverNow: t.clock.now() },
    );
    expect(before.meId).toBe(before.userId);
    expect(before.storedKey).toEqual({ isCryptoKey: true, extractable: false, type: 'private', algorithm: { name: 'ECDSA', namedCurve: 'P-256' } });
    expect(before.exportRefused).toBe('InvalidAccessError');
    expect(before.tokenType).toBe('DPoP');
    expect((decodeJwt(before.accessToken)['cnf'] as { jkt: string }).jkt).toBe(before.jkt);

    await page.reload();
    requests.length = 0;
    const after = await page.evaluate(async (serverNow) => {
      const { Twofold, location, localStorage } = globalThis as any;
      const tokenStore = {
        get: () => JSON.parse(localStorage.getItem('tokens') ?? 'null') ?? undefined,
        set: (tokens: unknown) => localStorage.setItem('tokens', JSON.stringify(tokens)),
        clear: () => localStorage.removeItem('tokens'),
      };
      const twofold = Twofold.createTwofoldClient({ baseUrl: location.origin, dpop: true, tokenStore, now: () => serverNow });
      const refreshed = await twofold.refreshTokens();
      const me = await twofold.getMe();
      const viaFetch = await twofold.authorizedFetch(`${location.origin}/v1/me`);
      return { jkt: await twofold.dpopThumbprint(), accessToken: refreshed.accessToken, tokenType: refreshed.tokenType, meId: me.user.id, fetchStatus: viaFetch.status, fetchMe: (await viaFetch.json()).user.id };
    }, t.clock.now());
    expect(after.jkt).toBe(before.jkt);
    expect(after.tokenType).toBe('DPoP');
    expect((decodeJwt(after.accessToken)['cnf'] as { jkt: string }).jkt).toBe(before.jkt);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after).toMatchObject({ meId: before.userId, fetchStatus: 200, fetchMe: before.userId });
    expect(requests).toEqual(['POST /v1/token/refresh proof -', 'GET /v1/me proof DPoP', 'GET /v1/me proof DPoP']);
  });

  it('DP-33: on an insecure page (no crypto.subtle) a dpop client fails with dpop_unavailable instead of sending a broken proof', async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const insecureOrigin = 'http://insecure.test';
    const requests: string[] = [];
    await context.route(`${insecureOrigin}/**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === pagePath) return route.fulfill({ contentType: 'text/html', body: pageHtml(bundle) });
      requests.push(url.pathname);
      return route.fulfill({ status: 500 });
    });
    const page = await context.newPage();
    await page.goto(`${insecureOrigin}${pagePath}`);
    const outcome = await page.evaluate(async () => {
      const { Twofold, location, crypto, isSecureContext } = globalThis as any;
      const twofold = Twofold.createTwofoldClient({ baseUrl: location.origin, dpop: true, tokenStore: Twofold.createMemoryTokenStore({ accessToken: 'a', tokenType: 'DPoP', refreshToken: 'r', expiresAtMs: Date.now() + 600_000 }) });
      const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: { code?: string }) => error.code);
      return { isSecureContext, subtle: crypto.subtle === undefined ? 'none' : 'present', thumbprint: await codeOf(twofold.dpopThumbprint()), me: await codeOf(twofold.getMe()), refresh: await codeOf(twofold.refreshTokens()) };
    });
    expect(outcome).toEqual({ isSecureContext: false, subtle: 'none', thumbprint: 'dpop_unavailable', me: 'dpop_unavailable', refresh: 'dpop_unavailable' });
    expect(requests).toEqual([]);
  });

  it('DP-29: two clients starting at once (two tabs) end with one key in IndexedDB; another Twofold base URL gets its own', async () => {
    const { page } = await sdkPage();
    const outcome = await page.evaluate(async () => {
      const { Twofold, location } = globalThis as any;
      const clients = Array.from({ length: 4 }, () => Twofold.createTwofoldClient({ baseUrl: location.origin, dpop: true }));
      const thumbprints = await Promise.all(clients.map((client: any) => client.dpopThumbprint()));
      const other = await Twofold.createTwofoldClient({ baseUrl: `${location.origin}/other`, dpop: true }).dpopThumbprint();
      const inMemory = await Twofold.createTwofoldClient({ baseUrl: location.origin, dpop: { store: 'memory' } }).dpopThumbprint();
      return { distinct: new Set(thumbprints).size, first: thumbprints[0], other, inMemory };
    });
    expect(outcome.distinct).toBe(1);
    expect(outcome.first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(outcome.other).not.toBe(outcome.first);
    expect(outcome.inMemory).not.toBe(outcome.first);
  });
});
