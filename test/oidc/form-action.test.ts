// The hosted pages' form-action and the OpenID Provider: a browser applies form-action to every
// redirect a form's answer starts, and a sign-in for an application ends at the application's
// redirect URI. A page of that sign-in allows that application's redirect origin, and only it:
// never every registered client's (a list, and a header, that would grow with the clients).
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerPublicOidcClient, removeOidcClient } from '../../src/oidc/clients.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

function formAction(policy: unknown): string[] {
  const directive = String(policy).split(';').map((part) => part.trim()).find((part) => part.startsWith('form-action '));
  return directive === undefined ? [] : directive.split(/\s+/).slice(1);
}

describe('the hosted pages’ form-action with the OpenID Provider on', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_OIDC: 'on' } });
    await registerPublicOidcClient(t.ctx.db, { clientId: 'shop', redirectUris: ['https://shop.example:8443/callback', 'https://shop.example:8443/other'] });
    await registerPublicOidcClient(t.ctx.db, { clientId: 'blog', redirectUris: ['https://blog.example/callback'] });
  });
  afterAll(async () => t.close());

  /** Starts an authorization for `clientId` and answers the interaction path the provider sends the browser to. */
  async function interactionOf(clientId: string, redirectUri: string): Promise<string> {
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
    const query = new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' });
    const started = await t.app.inject({ method: 'GET', url: `/oidc/auth?${query}` });
    const location = String(started.headers.location);
    expect(location).toMatch(/^\/oidc\/interaction\/[A-Za-z0-9_-]+$/);
    return location;
  }

  const formActionOf = async (url: string, cookies: Record<string, string> = {}) => formAction((await t.app.inject({ method: 'GET', url, cookies })).headers['content-security-policy']);

  it('OP-18: a page of a provider sign-in allows that application’s redirect origin and no other client’s', async () => {
    expect(await formActionOf('/sign-in')).toEqual(["'self'"]);
    const shop = await interactionOf('shop', 'https://shop.example:8443/other');
    expect(await formActionOf(`/sign-in?return_to=${encodeURIComponent(shop)}`)).toEqual(["'self'", 'https://shop.example:8443']);
    // The step-up page of a sign-in (max_age, acr_values) names it by `next`.
    expect(await formActionOf(`/account/verify?next=${encodeURIComponent(shop)}`)).toEqual(["'self'", 'https://shop.example:8443']);
    const blog = await interactionOf('blog', 'https://blog.example/callback');
    expect(await formActionOf(`/sign-in?return_to=${encodeURIComponent(blog)}`)).toEqual(["'self'", 'https://blog.example']);
  });

  it('OP-18: the second-factor page learns the sign-in from the return cookie the sign-in page set', async () => {
    const shop = await interactionOf('shop', 'https://shop.example:8443/callback');
    const signIn = await t.app.inject({ method: 'GET', url: `/sign-in?return_to=${encodeURIComponent(shop)}` });
    const returnCookie = signIn.cookies.find((cookie) => cookie.name === '__Host-twofold-return');
    expect(returnCookie?.value).toBe(shop);
    expect(await formActionOf('/sign-in/verify', { [returnCookie!.name]: returnCookie!.value })).toEqual(["'self'", 'https://shop.example:8443']);
  });

  it('OP-18: an unknown, ended or malformed interaction allows nothing more; a removed client’s new sign-ins cannot start', async () => {
    expect(await formActionOf('/sign-in?return_to=%2Foidc%2Finteraction%2Fnot-a-live-one')).toEqual(["'self'"]);
    expect(await formActionOf('/sign-in?return_to=https%3A%2F%2Fevil.example%2F')).toEqual(["'self'"]);
    expect(await formActionOf('/sign-in?return_to=%2Foidc%2Finteraction%2F..%2F..%2Fx')).toEqual(["'self'"]);
    await removeOidcClient(t.ctx.db, 'blog');
    const refused = await t.app.inject({ method: 'GET', url: `/oidc/auth?${new URLSearchParams({ client_id: 'blog', redirect_uri: 'https://blog.example/callback', response_type: 'code', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}` });
    expect(String(refused.headers.location ?? '')).not.toMatch(/^\/oidc\/interaction\//);
  });
});
