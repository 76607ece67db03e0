// What a client may be registered to have, and the provider then does: a pairwise `sub` (stable for
// one client, different for another, the same at userinfo), PAR required (a plain authorization
// request refused, a pushed one working with openid-client), answers by form_post (an
// auto-submitting page with code, state and iss, which its content policy lets submit) while the
// fragment is refused for the code, and any port on the loopback for a native app (RFC 8252 §7.3).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { registerPublicOidcClient } from '../../src/oidc/clients.js';
import { signUp, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://policy.example/callback';

describe('client policies of the OpenID Provider', () => {
  let t: ListeningTwofold;
  let user: SignedUp;
  let browser: OidcBrowser;

  beforeAll(async () => {
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on' } });
    user = await signUp(t);
    browser = new OidcBrowser(t.baseUrl);
    for (const clientId of ['pairwise-a', 'pairwise-b']) await registerPublicOidcClient(t.ctx.db, { clientId, redirectUris: [redirectUri], firstParty: true, options: { subjectType: 'pairwise' } });
    await registerPublicOidcClient(t.ctx.db, { clientId: 'public-sub', redirectUris: [redirectUri], firstParty: true });
    await registerPublicOidcClient(t.ctx.db, { clientId: 'par-only', redirectUris: [redirectUri], firstParty: true, options: { requirePar: true } });
    await registerPublicOidcClient(t.ctx.db, { clientId: 'native-app', redirectUris: ['http://127.0.0.1/callback'], firstParty: true, options: { native: true } });
    await registerPublicOidcClient(t.ctx.db, { clientId: 'web-loopback', redirectUris: ['http://127.0.0.1/callback'], firstParty: true });
  });
  afterAll(async () => t.close());

  async function start(clientId: string, params: Record<string, string> = {}, uri = redirectUri) {
    const config = await discoverAsClient(t, clientId);
    const verifier = client.randomPKCECodeVerifier();
    const parameters = { redirect_uri: uri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'state-p', ...params };
    return { config, verifier, parameters, url: client.buildAuthorizationUrl(config, parameters) };
  }

  /** Where the (signed-in, after the first time) browser ends up for `url`. */
  async function land(url: URL): Promise<{ response: Response; url: string }> {
    const first = await browser.follow(url.href);
    if (new URL(first.url).pathname !== '/sign-in') return first;
    const back = await browser.signIn(t, user, url);
    return { response: first.response, url: back.href };
  }

  async function login(clientId: string): Promise<{ sub: string; userinfoSub: string }> {
    const { config, verifier, url } = await start(clientId);
    const callback = new URL((await land(url)).url);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-p' });
    const sub = tokens.claims()!.sub;
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub);
    return { sub, userinfoSub: userinfo.sub };
  }

  it('OP-17: a pairwise sub is stable for one client, different for another, not the user id, and the same at userinfo', async () => {
    const a1 = await login('pairwise-a');
    const a2 = await login('pairwise-a');
    const b = await login('pairwise-b');
    const publicSub = await login('public-sub');
    expect(publicSub.sub).toBe(user.userId);
    expect(a1.sub).not.toBe(user.userId);
    expect(a1.sub).toBe(a2.sub);
    expect(b.sub).not.toBe(a1.sub);
    expect(a1.userinfoSub).toBe(a1.sub);
    expect(b.userinfoSub).toBe(b.sub);
  });

  it('OP-17: a client that requires PAR is refused a plain authorization request and served a pushed one', async () => {
    const plain = await start('par-only');
    const refused = await browser.follow(plain.url.href);
    const refusedUrl = new URL(refused.url);
    expect(refusedUrl.searchParams.get('code')).toBeNull();
    if (refusedUrl.origin + refusedUrl.pathname === redirectUri) expect(refusedUrl.searchParams.get('error')).toBe('invalid_request');
    else expect(await refused.response.text()).toMatch(/invalid_request/);

    const pushed = await start('par-only');
    const pushedUrl = await client.buildAuthorizationUrlWithPAR(pushed.config, pushed.parameters);
    expect(pushedUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const callback = new URL((await land(pushedUrl)).url);
    const tokens = await client.authorizationCodeGrant(pushed.config, callback, { pkceCodeVerifier: pushed.verifier, expectedState: 'state-p' });
    expect(tokens.claims()!.aud).toBe('par-only');
  });

  it('OP-17: response_mode=form_post answers with a page that submits code, state and iss to the redirect URI, and may run its script', async () => {
    const { config, verifier, url } = await start('public-sub', { response_mode: 'form_post' });
    await login('public-sub'); // signed in, so the answer is the page itself
    const page = await browser.follow(url.href);
    expect(page.response.status).toBe(200);
    expect(new URL(page.url).pathname).toMatch(/^\/oidc\/auth\//);
    const body = await page.response.text();
    expect(body).toContain(`<form method="post" action="${redirectUri}">`);
    const inputs = Object.fromEntries([...body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((match) => [match[1], match[2]]));
    expect(Object.keys(inputs).sort()).toEqual(['code', 'iss', 'state']);
    expect(inputs['state']).toBe('state-p');
    expect(inputs['iss']).toBe(t.baseUrl);
    // Its content policy lets the inline script that submits the form run: no script-src, or its hash.
    const policy = page.response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("frame-ancestors 'none'");
    const script = /<script>([\s\S]*?)<\/script>/.exec(body)![1]!;
    const scriptPolicy = /script-src([^;]*)/.exec(policy)?.[1];
    if (scriptPolicy !== undefined) expect(scriptPolicy).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(policy).not.toMatch(/form-action/);
    // The code of the page is a working code.
    const callback = new URL(`${redirectUri}?${new URLSearchParams(inputs as Record<string, string>)}`);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-p' });
    expect(tokens.claims()!.aud).toBe('public-sub');
  });

  it('OP-17: response_mode=fragment is refused for the code: an error, never a code in a fragment', async () => {
    const { url } = await start('public-sub', { response_mode: 'fragment' });
    const answer = await land(url);
    const refused = new URL(answer.url);
    expect(refused.origin + refused.pathname).toBe(redirectUri);
    const parameters = new URLSearchParams(refused.hash === '' ? refused.search : refused.hash.slice(1));
    expect(parameters.get('error')).toBe('invalid_request');
    expect(parameters.get('code')).toBeNull();
  });

  it('OP-17: discovery offers the query and form_post response modes only, at both of its names', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const metadata = (await (await fetch(`${t.baseUrl}${path}`)).json()) as { response_modes_supported?: string[]; issuer?: string };
      expect(metadata.issuer).toBeDefined();
      expect([...(metadata.response_modes_supported ?? [])].sort()).toEqual(['form_post', 'query']);
    }
  });

  it('OP-17: a native app registered with http://127.0.0.1/callback is served on any port; a web app only on the exact URI', async () => {
    const anyPort = 'http://127.0.0.1:49152/callback';
    const { config, verifier, url } = await start('native-app', {}, anyPort);
    const callback = new URL((await land(url)).url);
    expect(callback.origin + callback.pathname).toBe(anyPort);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-p' });
    expect(tokens.claims()!.aud).toBe('native-app');

    const web = await start('web-loopback', {}, anyPort);
    const refused = await browser.request(web.url.href);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('location')).toBeNull();
    const otherHost = await start('native-app', {}, 'http://127.0.0.2:49152/callback');
    expect((await browser.request(otherHost.url.href)).status).toBe(400);
  });
});
