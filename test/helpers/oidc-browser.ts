// A browser over fetch for the OpenID Provider's tests: a cookie jar, redirects followed by hand.

export /** A browser over fetch: a cookie jar, redirects followed by hand so each hop can be looked at. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly baseUrl: string) {}

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers['cookie'] = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (init.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(new URL(url, this.baseUrl), {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(init.form === undefined ? {} : { body: new URLSearchParams(init.form).toString() }),
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
    }
    return { response, url: current };
  }

  csrf(): string {
    const token = this.cookies.get('__Host-twofold-csrf');
    if (token === undefined) throw new Error('no CSRF cookie yet');
    return decodeURIComponent(token);
  }
}
