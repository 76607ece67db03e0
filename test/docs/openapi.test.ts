// docs/openapi.json is generated from the route schemas (`npm run openapi`) and committed, so the
// API contract can be read and diffed without running anything. It must match what the server
// serves; the interactive docs at /docs must render it in a real browser under a strict CSP.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumAvailable, launchChromium, watchForViolations } from '../helpers/browser.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { openApiDocument } from '../helpers/openapi-document.js';
import { requirement } from '../helpers/requirements.js';

describe('docs/openapi.json', () => {
  it('matches the document the server generates from its route schemas (run `npm run openapi` after changing a route)', async () => {
    const committed: unknown = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(await openApiDocument());
  });

  it('is OpenAPI 3.1 and documents every API route with its security', async () => {
    const document = (await openApiDocument()) as { openapi: string; paths: Record<string, Record<string, { security?: unknown }>> };
    expect(document.openapi).toBe('3.1.0');
    for (const path of ['/v1/register', '/v1/login', '/v1/mfa/verify', '/v1/token/refresh', '/v1/me', '/v1/revoked-sessions', '/.well-known/jwks.json']) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    // DP-15: an access token is Bearer, or DPoP-bound with its proof.
    expect(document.paths['/v1/me']?.['get']?.security).toEqual([{ bearer: [] }, { dpop: [] }]);
    // Pages and the docs themselves are not part of the API.
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/docs') || path === '/sign-in')).toEqual([]);
  });
});

const haveChromium = requirement('Chromium', chromiumAvailable, 'apt-get install -y chromium (Debian package; never a downloaded browser)');

describe.runIf(haveChromium)('/docs in Chromium', () => {
  let t: ListeningTwofold;
  let browser: Browser;
  beforeAll(async () => {
    t = await startListeningTwofold();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser.close();
    await t.close();
  });

  it('renders every operation from the package (no CDN), with no CSP violation or script error', async () => {
    const page = await browser.newPage();
    const problems = watchForViolations(page);
    const origins = new Set<string>();
    page.on('request', (request) => origins.add(new URL(request.url()).origin));
    const response = await page.goto(`${t.baseUrl}/docs`);
    expect(response?.headers()['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    await page.locator('.opblock-summary-path', { hasText: '/v1/mfa/verify' }).first().waitFor();
    const paths = await page.locator('.opblock-summary-path').allTextContents();
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.map((text) => text.replace(/\u200b/g, ''))).toContain('/v1/login');
    expect([...origins].filter((origin) => origin !== t.baseUrl && origin !== 'null')).toEqual([]);
    expect(problems).toEqual([]);
  });
});
