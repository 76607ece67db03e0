// Real Chromium (Debian's /usr/bin/chromium, never a downloaded browser) driven by playwright-core,
// with the flags this sandboxed machine needs, and a CDP virtual authenticator for passkeys.
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';
export const chromiumAvailable = existsSync(chromiumPath);

/** `extraArgs`: more Chromium switches, e.g. `--unsafely-treat-insecure-origin-as-secure=<origin>` for WebAuthn on a test origin. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', ...extraArgs],
  });
}

/** Collects Content-Security-Policy violations and page errors, which no page may produce. */
export function watchForViolations(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}

/**
 * What sticks out of a phone-sized page sideways or is cut off (empty when the page fits its
 * screen). Page code as text: this suite is compiled without the DOM's types.
 */
const horizontalOverflowInPage = `(() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > width) problems.push('the page is ' + document.documentElement.scrollWidth + 'px wide on a ' + width + 'px screen');
  for (const element of document.body.querySelectorAll('*')) {
    // What is there only for screen readers is 1px and clipped on purpose.
    if (element.closest('.visually-hidden, thead') !== null) continue;
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const name = element.tagName.toLowerCase() + (element.id ? '#' + element.id : '') + (typeof element.className === 'string' && element.className.trim() ? '.' + element.className.trim().split(/\\s+/).join('.') : '');
    if (box.left < -0.5 || box.right > width + 0.5) problems.push(name + ' spans ' + Math.round(box.left) + '..' + Math.round(box.right) + ' px');
    // Content cut off by a box that clips or scrolls (an input's own text scrolls by design).
    if (element.tagName !== 'INPUT' && getComputedStyle(element).overflowX !== 'visible' && element.scrollWidth > element.clientWidth + 1) problems.push(name + ' cuts off its content');
  }
  return problems;
})()`;

export function horizontalOverflow(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(horizontalOverflowInPage);
}

/** A platform authenticator with user verification (biometrics), as Chrome's DevTools offers. */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page, options: { automaticPresenceSimulation?: boolean } = {}): Promise<string> {
  return (await addPasskeyAuthenticator(context, page, options)).id;
}

/** A credential as the virtual authenticator holds it (private key included, so it can be put back). */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
}

/** The same authenticator, with what a test needs to look into it and to act as its owner would. */
export interface PasskeyAuthenticator {
  id: string;
  credentials(): Promise<VirtualCredential[]>;
  /** What the authenticator answers when asked to verify its user: false is a refused PIN or fingerprint. */
  setUserVerified(verified: boolean): Promise<void>;
  removeCredential(credentialId: string): Promise<void>;
  addCredential(credential: VirtualCredential): Promise<void>;
}

/** `automaticPresenceSimulation: false`: the authenticator waits instead of answering every request at once (a conditional request stays open). */
export async function addPasskeyAuthenticator(context: BrowserContext, page: Page, options: { automaticPresenceSimulation?: boolean } = {}): Promise<PasskeyAuthenticator> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: options.automaticPresenceSimulation ?? true },
  });
  return {
    id: authenticatorId,
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials as VirtualCredential[],
    setUserVerified: async (isUserVerified) => void (await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified })),
    removeCredential: async (credentialId) => void (await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId })),
    addCredential: async (credential) => void (await cdp.send('WebAuthn.addCredential', { authenticatorId, credential })),
  };
}

/**
 * Where the browser tests put their screenshots. The README's (docs/screenshots) are rewritten only
 * on purpose, by `npm run screenshots` (TWOFOLD_UPDATE_SCREENSHOTS=1); every other run writes them
 * to an ignored folder, so `npm test` leaves the working tree as it found it.
 */
/**
 * Sign up on the hosted pages with a passkey of the page's virtual authenticator as the first
 * factor (labelled "Laptop"), past the recovery codes; ends on the account page.
 */
export async function signUpWithPasskeyOnPages(page: Page, baseUrl: string, account: { username: string; password: string; email?: string }): Promise<void> {
  await page.goto(`${baseUrl}/sign-up`);
  await page.fill('#username', account.username);
  await page.fill('#password', account.password);
  if (account.email !== undefined) await page.fill('#email', account.email);
  await page.click('button:has-text("Create account")');
  await page.waitForURL('**/enroll');
  await page.fill('#label', 'Laptop');
  await page.click('button:has-text("Create a passkey")');
  await page.waitForSelector('#recovery-codes');
  await page.click('a:has-text("I saved them")');
  await page.waitForURL('**/account');
}

export function screenshotDirectory(env: Record<string, string | undefined> = process.env): string {
  return env['TWOFOLD_UPDATE_SCREENSHOTS'] === '1' ? 'docs/screenshots' : 'test-results/screenshots';
}

export async function screenshot(page: Page, name: string): Promise<void> {
  const directory = screenshotDirectory();
  mkdirSync(directory, { recursive: true });
  await page.screenshot({ path: `${directory}/${name}.png`, fullPage: true });
}
