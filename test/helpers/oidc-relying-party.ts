// openid-client as the relying party of a listening Twofold's OpenID Provider: discovery over plain
// HTTP (the test server has no TLS), ID tokens expected under Twofold's signing algorithm.
import * as client from 'openid-client';
import type { ListeningTwofold } from './listening-twofold.js';

/** The relying party's configuration for `clientId`, authenticating as `authentication` (public: none). */
export function discoverAsClient(t: ListeningTwofold, clientId: string, authentication: client.ClientAuth = client.None()): Promise<client.Configuration> {
  return client.discovery(new URL(t.baseUrl), clientId, { id_token_signed_response_alg: t.config.tokens.signingAlgorithm }, authentication, { execute: [client.allowInsecureRequests] });
}
