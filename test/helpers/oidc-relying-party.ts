// openid-client as the relying party of a listening Twofold's OpenID Provider: discovery over plain
// HTTP (the test server has no TLS), ID tokens expected under Twofold's signing algorithm.
import * as client from 'openid-client';
import { registerPublicOidcClient, type OidcClientRegistration } from '../../src/oidc/clients.js';
import { signUp, type SignedUp } from './flow.js';
import { startListeningTwofold, type ListeningTwofold } from './listening-twofold.js';

/** The relying party's configuration for `clientId`, authenticating as `authentication` (public: none). */
export function discoverAsClient(t: ListeningTwofold, clientId: string, authentication: client.ClientAuth = client.None()): Promise<client.Configuration> {
  return client.discovery(new URL(t.baseUrl), clientId, { id_token_signed_response_alg: t.config.tokens.signingAlgorithm }, authentication, { execute: [client.allowInsecureRequests] });
}

export interface OidcTestbed {
  t: ListeningTwofold;
  user: SignedUp;
  config: client.Configuration;
}

/** A listening Twofold with the provider on, one signed-up person, and `registration` as a public client as openid-client sees it. */
export async function startOidcTestbed(registration: OidcClientRegistration, env: Record<string, string> = {}): Promise<OidcTestbed> {
  const t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on', ...env } });
  const user = await signUp(t);
  await registerPublicOidcClient(t.ctx.db, registration);
  return { t, user, config: await discoverAsClient(t, registration.clientId) };
}

/** An authorization URL of the code flow with a new PKCE verifier (S256); `parameters` as openid-client takes them. */
export async function pkceAuthorization(config: client.Configuration, parameters: Record<string, string>): Promise<{ url: URL; verifier: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, { code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...parameters });
  return { url, verifier };
}
