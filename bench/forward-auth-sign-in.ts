// A person signed in through forward-auth for the benchmark, over plain HTTP as a browser would:
// register (password + authenticator app), then the portal's sign-in for the app's URL (the
// sign-in form, the verify form with the next TOTP step's code), the callback, and the
// forward-auth cookie it sets — what a proxy then forwards on every request of that person.
import { generateTotpCode, totpStepAt } from '../src/core/totp/verify.js';
import { forwardAuthCookieName } from '../src/http/forward-auth/cookie-sessions.js';
import { post } from './full-flow.js';

const password = 'a benchmark passphrase';

/** A tiny cookie jar: names and values only (the benchmark talks to one host). */
class Jar {
  readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const separator = pair!.indexOf('=');
      const name = pair!.slice(0, separator).trim();
      const value = pair!.slice(separator + 1).trim();
      if (value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The forward-auth cookie (its value) of a new user signed in for `appUrl` at the Twofold at `twofoldUrl`. */
export async function forwardAuthCookieFor(twofoldUrl: string, appUrl: string, username: string): Promise<string> {
  const registered = await post(twofoldUrl, '/v1/register', { username, password });
  const step = totpStepAt(Date.now());
  const confirmed = await post(twofoldUrl, `/v1/factors/${registered.body.totp.factor_id}/verify`, { code: generateTotpCode(registered.body.totp.secret, step) }, registered.body.mfa_token);
  if (confirmed.status !== 200) throw new Error(`could not sign up ${username}: ${JSON.stringify(confirmed.body)}`);

  const jar = new Jar();
  const request = async (path: string, form?: Record<string, string>): Promise<Response> => {
    const response = await fetch(`${twofoldUrl}${path}`, {
      method: form === undefined ? 'GET' : 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
      ...(form === undefined ? {} : { body: new URLSearchParams({ csrf: jar.cookies.get('__Host-twofold-csrf') ?? '', ...form }).toString() }),
    });
    jar.take(response);
    await response.arrayBuffer();
    return response;
  };
  /** Follows same-host redirects until one leaves Twofold (the callback's, to the app). */
  const follow = async (response: Response): Promise<void> => {
    let current = response;
    for (let hop = 0; hop < 10; hop += 1) {
      const location = current.headers.get('location');
      if (location === null || !location.startsWith('/')) return;
      current = await request(location);
    }
  };

  await follow(await request(`/v1/forward-auth/sign-in?rd=${encodeURIComponent(appUrl)}`));
  const signedIn = await request('/sign-in', { username, password });
  if (signedIn.headers.get('location') !== '/sign-in/verify') throw new Error(`the sign-in form did not lead to the second factor (${signedIn.status})`);
  await request('/sign-in/verify');
  // The registration spent this step's code: the next step's, which the server's window accepts.
  await follow(await request('/sign-in/verify', { code: generateTotpCode(registered.body.totp.secret, step + 1) }));
  const cookie = jar.cookies.get(forwardAuthCookieName);
  if (cookie === undefined) throw new Error(`no forward-auth cookie after signing ${username} in`);
  return cookie;
}
