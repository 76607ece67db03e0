// A browser for the hosted pages without a browser: a cookie jar in front of app.inject that
// posts forms with its CSRF token, the way a page's form would.
import type { LightMyRequestResponse } from 'fastify';
import type { TestTwofold } from './twofold.js';

const csrfCookie = '__Host-twofold-csrf';

export class PageBrowser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly t: TestTwofold) {}

  private async send(method: 'GET' | 'POST', url: string, payload?: string): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers['cookie'] = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (payload !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await this.t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
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
    return this.send('GET', url);
  }

  /** A form POST with this browser's CSRF token (a page is loaded first when it has none). */
  async post(url: string, fields: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    if (!this.cookies.has(csrfCookie)) await this.get('/sign-in');
    return this.send('POST', url, new URLSearchParams({ csrf: this.cookies.get(csrfCookie)!, ...fields }).toString());
  }
}
