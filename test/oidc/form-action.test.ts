// The hosted pages' form-action and the OpenID Provider: a browser applies form-action to every
// redirect a form's answer starts, and a sign-in for an application ends at the application's
// redirect URI. The registered clients' redirect origins are allowed there, nothing else.
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
  });
  afterAll(async () => t.close());

  it('OP-18: a registered client’s redirect origin is allowed at once, and no longer once the client is removed', async () => {
    expect(formAction((await t.app.inject({ method: 'GET', url: '/sign-in' })).headers['content-security-policy'])).toEqual(["'self'"]);
    await registerPublicOidcClient(t.ctx.db, { clientId: 'shop', redirectUris: ['https://shop.example:8443/callback', 'https://shop.example:8443/other'] });
    expect(formAction((await t.app.inject({ method: 'GET', url: '/sign-in' })).headers['content-security-policy'])).toEqual(["'self'", 'https://shop.example:8443']);
    await removeOidcClient(t.ctx.db, 'shop');
    expect(formAction((await t.app.inject({ method: 'GET', url: '/sign-in' })).headers['content-security-policy'])).toEqual(["'self'"]);
  });
});
