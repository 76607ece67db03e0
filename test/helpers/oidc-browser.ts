// A browser over fetch for the OpenID Provider's tests: a cookie jar, redirects followed by hand so
// each hop can be looked at, and a sign-in through the hosted pages (password, then the
// authenticator app's code) that ends at the redirect back to the app. On a third-party client's
// consent page the browser answers as `consentAnswer` says (Allow unless a test asks otherwise, or
// `stop` to look at the page), through the page's form with its CSRF token.
import { expect } from 'vitest';
import { totpCode, type SignedUp } from './flow.js';
import type { ListeningTwofold } from './listening-twofold.js';

export type ConsentAnswer = 'allow' | 'deny' | 'stop';

export class OidcBrowser {
  readonly cookies = new Map<string, string>();
  consentAnswer: ConsentAnswer = 'allow';
  /** The consent pages answered so far, by their interaction path. */
  readonly consentPages: string[] = [];
  /** The path of every request sent, in order. */
  readonly requested: string[] = [];
  /** Which of `instances` answered each request (round-robin), when there are several. */
  readonly answeredBy: number[] = [];
  private sent = 0;

  /**
   * `instances`: the listening URLs of several Twofold processes behind `baseUrl` (the public URL):
   * each request goes to the next one, as behind a load balancer without session affinity.
   */
  constructor(
    private readonly baseUrl: string,
    private readonly instances: readonly string[] = [],
  ) {}

  private target(url: URL): URL {
    if (this.instances.length === 0 || url.origin !== new URL(this.baseUrl).origin) return url;
    const index = this.sent % this.instances.length;
    this.sent += 1;
    this.answeredBy.push(index);
    return new URL(url.pathname + url.search, this.instances[index]);
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; json?: unknown } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers['cookie'] = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (init.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const target = this.target(new URL(url, this.baseUrl));
    this.requested.push(new URL(url, this.baseUrl).pathname);
    const response = await fetch(target, {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(init.form === undefined ? {} : { body: new URLSearchParams(init.form).toString() }),
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index);
      const value = pair!.slice(index + 1);
      if (value === '' || /max-age=0\b|expires=thu, 01 jan 1970/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects on Twofold's origin; returns the first answer that is not one, or the first redirect away. */
  async follow(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ response: Response; url: string }> {
    let response = await this.request(url, init);
    let current = new URL(url, this.baseUrl).href;
    for (let hops = 0; hops < 20 && response.status >= 300 && response.status < 400; hops += 1) {
      const next = new URL(response.headers.get('location')!, current).href;
      if (new URL(next).origin !== new URL(this.baseUrl).origin) return { response, url: next };
      current = next;
      response = await this.request(next);
      if (this.isConsentPage(response, current) && this.consentAnswer !== 'stop') {
        await response.body?.cancel();
        this.consentPages.push(new URL(current).pathname);
        current = `${new URL(current).origin}${new URL(current).pathname}/consent`;
        response = await this.request(current, { method: 'POST', form: { csrf: this.csrf(), decision: this.consentAnswer } });
      }
    }
    return { response, url: current };
  }

  /** The provider's interaction answers with a page (not a redirect) only to ask for consent. */
  isConsentPage(response: Response, url: string): boolean {
    return response.status === 200 && /^\/oidc\/interaction\/[^/]+$/.test(new URL(url).pathname);
  }

  csrf(): string {
    const token = this.cookies.get('__Host-twofold-csrf');
    if (token === undefined) throw new Error('no CSRF cookie yet');
    return decodeURIComponent(token);
  }

  /** Through the hosted pages: password, then the authenticator app's code; the redirect back to the app. */
  async signIn(t: ListeningTwofold, user: SignedUp, url: URL): Promise<URL> {
    return this.signInWith(url, user, () => {
      t.clock.advanceSeconds(30);
      return { code: totpCode(t, user.secret) };
    });
  }

  /**
   * The same through the hosted pages with any second factor's form fields (`{ code }`,
   * `{ recovery_code }`), made when the second-factor page is reached.
   */
  async signInWith(url: URL, user: { username: string; password: string }, secondFactor: () => Record<string, string>): Promise<URL> {
    const signInPage = await this.follow(url.href);
    expect(signInPage.url).toMatch(/\/sign-in\?return_to=/);
    const afterPassword = await this.follow('/sign-in', { method: 'POST', form: { csrf: this.csrf(), username: user.username, password: user.password } });
    expect(new URL(afterPassword.url).pathname).toBe('/sign-in/verify');
    const back = await this.follow('/sign-in/verify', { method: 'POST', form: { csrf: this.csrf(), ...secondFactor() } });
    expect(back.response.status).toBe(303);
    return new URL(back.url);
  }
}
