// Passkey sign-in with a real browser (WA-07..WA-09): Debian's Chromium with a CDP virtual
// authenticator (a platform authenticator with user verification) talks to a real server process
// through the JSON API, as an app's own page would: it registers a discoverable passkey (the
// browser answers credProps itself), then signs in with it alone — no username, no password —
// and gets a two-factor token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, watchForViolations } from '../helpers/browser.js';
import { uniqueUsername } from '../helpers/flow.js';
import { findFreePort, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { requirement } from '../helpers/requirements.js';
import { testEnvironment } from '../helpers/twofold.js';

const haveChromium = requirement('Chromium', chromiumAvailable, 'apt-get install -y chromium (Debian package; never a downloaded browser)');

/** In the page: register an account whose first factor is a passkey of this browser's authenticator. */
async function registerInPage(page: Page, username: string): Promise<{ credProps: unknown; status: number }> {
  return page.evaluate(async (name) => {
    const post = async (path: string, body: unknown, token?: string) => {
      const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as any };
    };
    // The page's globals (this file is compiled without the DOM library).
    const { navigator, PublicKeyCredential } = globalThis as any;
    const registered = await post('/v1/register', { username: name, password: 'correct horse battery staple' });
    const enrollment = await post('/v1/factors', { type: 'webauthn' }, registered.body.mfa_token);
    const created = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(enrollment.body.options) });
    const credential = created.toJSON() as { clientExtensionResults?: { credProps?: unknown } };
    const confirmed = await post(`/v1/factors/${enrollment.body.factor_id}/verify`, { credential, challenge_id: enrollment.body.challenge_id }, registered.body.mfa_token);
    return { credProps: credential.clientExtensionResults?.credProps, status: confirmed.status };
  }, username);
}

/** In the page: the whole passkey sign-in, with no username. */
async function signInInPage(page: Page): Promise<{ status: number; body: any }> {
  return page.evaluate(async () => {
    const post = async (path: string, body: unknown) => {
      const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as any };
    };
    const { navigator, PublicKeyCredential } = globalThis as any;
    const start = await post('/v1/passkeys/authenticate/options', {});
    const asserted = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(start.body.options) });
    return post('/v1/passkeys/authenticate', { challenge_id: start.body.challenge_id, credential: asserted.toJSON() });
  });
}

describe.runIf(haveChromium)('passkey sign-in in Chromium (CDP virtual authenticator)', () => {
  let server: ServerProcess;
  let url: string;
  let dataDir: string;
  let browser: Browser;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'twofold-passkey-browser-'));
    const port = await findFreePort();
    url = `http://localhost:${port}`;
    server = await startServerProcess({
      command: process.execPath,
      args: ['dist/cli/main.js', 'serve'],
      env: testEnvironment(dataDir, { TWOFOLD_PORT: String(port), TWOFOLD_HOST: 'localhost', TWOFOLD_PUBLIC_URL: url, TWOFOLD_LOG_LEVEL: 'warn' }),
      port,
    });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  async function pageWithAuthenticator(): Promise<{ page: Page; violations: string[] }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations = watchForViolations(page);
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await page.goto(`${url}/sign-in`);
    return { page, violations };
  }

  it('WA-07/WA-09: a passkey registered by the browser is discoverable and signs in alone as two factors — acr aal2, amr [swk, mfa]', async () => {
    const { page, violations } = await pageWithAuthenticator();
    const username = uniqueUsername('chromepk');
    const registration = await registerInPage(page, username);
    expect(registration.status).toBe(200);
    expect(registration.credProps).toEqual({ rk: true });
    const signedIn = await signInInPage(page);
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    const claims = decodeJwt(signedIn.body.access_token);
    expect(claims).toMatchObject({ acr: 'aal2', amr: ['swk', 'mfa'] });
    expect(violations).toEqual([]);
    const sqlite = new BetterSqlite3(join(dataDir, 'twofold.db'), { readonly: true });
    try {
      const row = sqlite.prepare('select c.discoverable, u.id as user_id from webauthn_credentials c join factors f on f.id = c.factor_id join users u on u.id = f.user_id where u.username = ?').get(username) as { discoverable: number; user_id: string };
      expect(row.discoverable).toBe(1);
      expect(claims.sub).toBe(row.user_id);
    } finally {
      sqlite.close();
    }
  });
});
