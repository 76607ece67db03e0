// What a dynamically registered client (RFC 7591, and its updates by RFC 7592) may ask for: the
// same policy as the operator's clients — the code flow only (PKCE S256 is required of every
// client anyway), answers by query or form_post, redirect URIs that are https or http on this
// machine's loopback — and nothing the provider would fetch from a URL the registrant names
// (jwks_uri, sector_identifier_uri: a registration must not make Twofold call into its network).
// With TWOFOLD_OIDC_REGISTRATION=loopback, only public loopback clients: no secret, redirect URIs on
// 127.0.0.1, [::1] or localhost, registered as native apps (RFC 8252: any port on the loopback).
// Runs inside the provider's own client validation (its extraClientMetadata hook), before the
// provider's checks, so a refusal is the RFC 7591 error: invalid_redirect_uri or
// invalid_client_metadata.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { OidcRegistrationMode } from '../config/oidc-registration.js';

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);
const allowedGrantTypes = new Set(['authorization_code', 'refresh_token']);
const allowedResponseModes = new Set(['query', 'form_post']);
const fetchedUris = ['jwks_uri', 'sector_identifier_uri', 'request_uris'];

/** The routes where a registrant, not the operator, says what the client is. */
export function isRegistrantRequest(koa: KoaContextWithOIDC | undefined): boolean {
  const route = koa?.oidc?.route;
  return route === 'registration' || route === 'client_update';
}

function invalidRedirectUri(description: string): Error {
  const error = new errors.InvalidRedirectUri();
  error.error_description = description;
  return error;
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
}

function checkRedirectUris(uris: readonly string[], label: string, loopbackOnly: boolean): void {
  for (const uri of uris) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw invalidRedirectUri(`${label} must be absolute URLs`);
    }
    const loopback = url.protocol === 'http:' && loopbackHosts.has(url.hostname);
    if (loopbackOnly && !loopback) throw invalidRedirectUri(`${label} must be http URLs on 127.0.0.1, [::1] or localhost`);
    if (!loopback && url.protocol !== 'https:') throw invalidRedirectUri(`${label} must be https (http only on 127.0.0.1, [::1] or localhost)`);
    if (url.username !== '' || url.password !== '' || uri.includes('#')) throw invalidRedirectUri(`${label} must not carry credentials or a fragment`);
  }
}

/**
 * Checks (and, for loopback clients, completes) the metadata a registrant sent; throws the RFC
 * 7591 error. Values of the wrong type are left to the provider's own checks, which follow.
 */
export function enforceRegistrationPolicy(metadata: Record<string, unknown>, mode: OidcRegistrationMode): void {
  const loopbackOnly = mode === 'loopback';
  const redirectUris = strings(metadata['redirect_uris']);
  if (redirectUris !== undefined) checkRedirectUris(redirectUris, 'redirect_uris', loopbackOnly);
  const postLogout = strings(metadata['post_logout_redirect_uris']);
  if (postLogout !== undefined) checkRedirectUris(postLogout, 'post_logout_redirect_uris', false);

  const grantTypes = strings(metadata['grant_types']) ?? [];
  const refusedGrant = grantTypes.find((grant) => !allowedGrantTypes.has(grant));
  if (refusedGrant !== undefined) throw new errors.InvalidClientMetadata(`grant_types: only authorization_code (with PKCE S256) is offered, not ${refusedGrant}`);
  const responseTypes = strings(metadata['response_types']) ?? [];
  if (responseTypes.some((type) => type !== 'code')) throw new errors.InvalidClientMetadata('response_types: only code is offered (no implicit or hybrid responses)');
  const responseModes = strings(metadata['response_modes']) ?? [];
  if (responseModes.some((mode) => !allowedResponseModes.has(mode))) throw new errors.InvalidClientMetadata('response_modes: only query and form_post are offered');
  const fetched = fetchedUris.find((name) => metadata[name] !== undefined);
  if (fetched !== undefined) throw new errors.InvalidClientMetadata(`${fetched} is not accepted at registration; send the keys inline (jwks)`);

  if (loopbackOnly) {
    if (metadata['token_endpoint_auth_method'] !== 'none') throw new errors.InvalidClientMetadata('token_endpoint_auth_method: only none (a public client with PKCE) may register here');
    // RFC 8252 §7.3: a loopback redirect URI is matched on any port, which the provider does for native apps.
    metadata['application_type'] = 'native';
  }
}
