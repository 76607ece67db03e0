// One login at the OpenID Provider for the token tests: an authorization request (PKCE S256)
// through the hosted pages — signing in the first time, straight back while the browser's Twofold
// session lasts — and the code exchanged by openid-client. offline_access asks prompt=consent,
// as the provider requires before it issues a refresh token.
import { expect } from 'vitest';
import * as client from 'openid-client';
import type { SignedUp } from './flow.js';
import type { ListeningTwofold } from './listening-twofold.js';
import type { OidcBrowser } from './oidc-browser.js';

export interface OidcLoginOptions {
  redirectUri: string;
  scope: string;
  /** RFC 8707 resource at the authorization endpoint. */
  resource?: string;
  /** RFC 8707 resource at the token endpoint: the access token is for it. */
  tokenResource?: string;
}

/** The callback the browser is sent to (a code, or an error). */
export async function authorizationCallback(t: ListeningTwofold, browser: OidcBrowser, user: SignedUp, config: client.Configuration, options: OidcLoginOptions & { verifier: string }): Promise<URL> {
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: options.redirectUri,
    scope: options.scope,
    code_challenge: await client.calculatePKCECodeChallenge(options.verifier),
    code_challenge_method: 'S256',
    state: 'state-t',
    ...(options.scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
    ...(options.resource === undefined ? {} : { resource: options.resource }),
  });
  const first = await browser.follow(url.href);
  const callback = first.url.startsWith(options.redirectUri) ? new URL(first.url) : await browser.signIn(t, user, url);
  expect(callback.origin + callback.pathname).toBe(options.redirectUri);
  return callback;
}

export async function oidcLogin(t: ListeningTwofold, browser: OidcBrowser, user: SignedUp, config: client.Configuration, options: OidcLoginOptions): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
  const verifier = client.randomPKCECodeVerifier();
  const callback = await authorizationCallback(t, browser, user, config, { ...options, verifier });
  expect(callback.searchParams.get('error'), callback.searchParams.get('error_description') ?? '').toBeNull();
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-t' }, options.tokenResource === undefined ? undefined : { resource: options.tokenResource });
}
