// A browser for the hosted pages in app.inject tests: a cookie jar (the __Host- cookies, deleted
// when a Set-Cookie expires them) and form posts that carry the page's CSRF token.
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { TestTwofold } from './twofold.js';

export const pageCookies = {
  csrf: '__Host-twofold-csrf',
  pending: '__Host-twofold-pending',
  access: '__Host-twofold-access',
  refresh: '__Host-twofold-refresh',
} as const;

export class PageBrowser {
  readonly cookies = new Map<string, string>();
  constructor(
    private readonly t: TestTwofold,
    private readonly headers: Record<string, string> = {},
  ) {}

  async send(options: InjectOptions & { url: string }): Promise<LightMyRequestResponse> {
    // Sent as the server wrote them (a browser never decodes a cookie): the jar keeps them decoded.
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; ');
    const headers = { ...this.headers, ...(cookie === '' ? {} : { cookie }), ...(options.headers as Record<string, string> | undefined) };
    const response = await this.t.app.inject({ ...options, headers });
    const setCookies = response.headers['set-cookie'];
    for (const header of setCookies === undefined ? [] : Array.isArray(setCookies) ? setCookies : [setCookies]) {
      const [pair] = header.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index);
      const value = decodeURIComponent(pair!.slice(index + 1));
      if (value === '' || /max-age=0\b/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  get(url: string): Promise<LightMyRequestResponse> {
    return this.send({ method: 'GET', url });
  }

  /** A form POST with this browser's CSRF token (a page is loaded first when it has none). */
  async post(url: string, fields: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    if (!this.cookies.has(pageCookies.csrf)) await this.get('/sign-in');
    const csrf = this.cookies.get(pageCookies.csrf)!;
    return this.send({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ csrf, ...fields }).toString() });
  }

  /** The signed-in session's access token, for calling the API as this browser's person. */
  get accessToken(): string {
    const token = this.cookies.get(pageCookies.access);
    if (token === undefined) throw new Error('this browser is not signed in');
    return token;
  }
}

/** The TOTP key an enrollment page shows, as an app would take it (its groups joined, tags and spacing dropped). */
export function totpKeyIn(page: string): string {
  const match = /data-testid="totp-secret">((?:<span class="group">[A-Z2-7=]+<\/span>)+)<\/span>/.exec(page);
  if (match === null) throw new Error('the page shows no TOTP key in groups');
  return match[1]!.replace(/<[^>]*>/g, '');
}
