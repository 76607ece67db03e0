// Clients of the OpenID Provider, registered by the operator (or, when the operator allows it, by
// dynamic registration: client-registration-policy.ts). A public client (token_endpoint_auth_method
// none) has no secret; a confidential one authenticates at the token endpoint with a secret
// (client_secret_basic or client_secret_post) or a JWT signed with its key (private_key_jwt,
// client-options.ts holds its public keys). PKCE is required of
// every client either way. They live with the provider's other rows, as its adapter's Client kind,
// which the provider reads and validates on each use. A client secret is stored only sealed with
// the secretbox, its AAD bound to the client id (a sealed secret moved to another client's row
// does not open); the adapter opens it for the provider, which compares it in constant time.
// A client registered with the refresh_token grant may get refresh tokens (offline_access); a
// service client is confidential with only the client_credentials grant and no redirect URI.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { SecretBoxError, type SecretBox } from '../core/crypto/secretbox.js';
import { oidcClientSecretAad } from '../flows/keys/oidc-client-secret-aad.js';
import { TwofoldError } from '../errors.js';
import type { Database } from '../store/database.js';
import { checkedClientOptions, clientOptionsSummary, storedClientOptions, type ClientOptionsSummary, type OidcClientOptions, type StoredClientOptions } from './client-options.js';
import { deleteOidcPayload, findLiveOidcPayload, listOidcPayloads, upsertOidcPayload } from '../store/repositories/oidc-payloads.js';

export const oidcClientKind = 'Client';

export const confidentialAuthMethods = ['client_secret_basic', 'client_secret_post'] as const;
export type ConfidentialAuthMethod = (typeof confidentialAuthMethods)[number];
/** private_key_jwt: confidential without a secret, by a JWT signed with the client's own key. */
export type ClientAuthMethod = ConfidentialAuthMethod | 'none' | 'private_key_jwt';

export interface OidcClientRegistration {
  clientId: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** The operator's own app: no consent page (third-party clients are asked, consent-page.ts). */
  firstParty?: boolean;
  /** `none` (public, the default) or how a confidential client authenticates. */
  authMethod?: ClientAuthMethod;
  /** Where Twofold POSTs a logout token when a session the client logged in with ends. */
  backchannelLogoutUri?: string | undefined;
  /** The refresh_token grant beside authorization_code: refresh tokens for offline_access. */
  refreshTokens?: boolean;
  options?: OidcClientOptions;
}

export interface OidcClientSummary {
  clientId: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  firstParty: boolean;
  authMethod: ClientAuthMethod;
  backchannelLogoutUri?: string | undefined;
  grantTypes: string[];
  options: ClientOptionsSummary;
}

/** The row's payload: the provider's metadata plus Twofold's own fields, which the provider never sees. */
export interface StoredClient extends StoredClientOptions {
  client_id: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  token_endpoint_auth_method: ClientAuthMethod;
  grant_types: string[];
  response_types: string[];
  twofold_first_party?: boolean;
  twofold_client_secret_sealed?: string;
  backchannel_logout_uri?: string;
}

const clientIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);
/** 256 bits from the CSPRNG, base64url: 43 characters. */
const clientSecretBytes = 32;

function checkedUris(uris: readonly string[], what: string): string[] {
  for (const uri of uris) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new TwofoldError('invalid_request', `The ${what} "${uri}" is not an absolute URL.`);
    }
    const allowedScheme = url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHosts.has(url.hostname));
    if (!allowedScheme) throw new TwofoldError('invalid_request', `The ${what} "${uri}" must be https (http only for localhost).`);
    if (url.hash !== '' || uri.includes('#') || url.username !== '' || url.password !== '') throw new TwofoldError('invalid_request', `The ${what} "${uri}" may not carry a fragment or credentials.`);
  }
  return [...uris];
}

/**
 * A registration as typed by an operator, checked before anything is stored: a client id of safe
 * characters, and redirect URIs that are absolute https URLs (http only on this machine's loopback,
 * for development), without a fragment or credentials — compared exactly by the provider later.
 */
export function checkedClientRegistration(clientId: string, redirectUris: readonly string[], options: Omit<OidcClientRegistration, 'clientId' | 'redirectUris'> = {}): OidcClientRegistration {
  if (!clientIdPattern.test(clientId)) throw new TwofoldError('invalid_request', 'A client id is 1 to 64 letters, digits, ".", "_" or "-".');
  if (redirectUris.length === 0) throw new TwofoldError('invalid_request', 'A client needs at least one redirect URI.');
  const authMethod = options.authMethod ?? 'none';
  if (authMethod !== 'none' && authMethod !== 'private_key_jwt' && !(confidentialAuthMethods as readonly string[]).includes(authMethod)) {
    throw new TwofoldError('invalid_request', `The auth method "${String(authMethod)}" is not one of ${[...confidentialAuthMethods, 'private_key_jwt'].join(', ')}.`);
  }
  return {
    clientId,
    redirectUris: checkedUris(redirectUris, 'redirect URI'),
    postLogoutRedirectUris: checkedUris(options.postLogoutRedirectUris ?? [], 'post-logout redirect URI'),
    firstParty: options.firstParty ?? false,
    authMethod,
    ...(options.backchannelLogoutUri === undefined ? {} : { backchannelLogoutUri: checkedUris([options.backchannelLogoutUri], 'back-channel logout URI')[0] }),
    refreshTokens: options.refreshTokens ?? false,
    options: checkedClientOptions(options.options ?? {}, redirectUris, authMethod),
  };
}

/** A service client's id, checked like any other (it has no redirect URI and never signs anyone in). */
export function checkedServiceClientId(clientId: string): string {
  if (!clientIdPattern.test(clientId)) throw new TwofoldError('invalid_request', 'A client id is 1 to 64 letters, digits, ".", "_" or "-".');
  return clientId;
}

const secretAad = oidcClientSecretAad;

function newClientSecret(): string {
  return randomBytes(clientSecretBytes).toString('base64url');
}

export async function storeClient(db: Kysely<Database>, stored: StoredClient): Promise<void> {
  await upsertOidcPayload(db, { kind: oidcClientKind, id: stored.client_id, payload: JSON.stringify(stored), grant_id: null, user_code: null, uid: null, expires_at: null, consumed_at: null });
}

export function storedClient(registration: OidcClientRegistration, sealedSecret: string | undefined): StoredClient {
  return {
    client_id: registration.clientId,
    redirect_uris: registration.redirectUris,
    ...((registration.postLogoutRedirectUris ?? []).length > 0 ? { post_logout_redirect_uris: registration.postLogoutRedirectUris } : {}),
    token_endpoint_auth_method: registration.authMethod ?? 'none',
    grant_types: registration.refreshTokens === true ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    response_types: ['code'],
    twofold_first_party: registration.firstParty ?? false,
    ...(registration.backchannelLogoutUri === undefined ? {} : { backchannel_logout_uri: registration.backchannelLogoutUri }),
    ...storedClientOptions(registration.options),
    ...(sealedSecret === undefined ? {} : { twofold_client_secret_sealed: sealedSecret }),
  };
}

export async function registerPublicOidcClient(db: Kysely<Database>, registration: OidcClientRegistration): Promise<void> {
  await storeClient(db, storedClient({ ...registration, authMethod: 'none' }, undefined));
}

/** Registers (or replaces) a private_key_jwt client: no secret, its public keys in its options. */
export async function registerKeyAuthenticatedOidcClient(db: Kysely<Database>, registration: OidcClientRegistration): Promise<void> {
  await storeClient(db, storedClient({ ...registration, authMethod: 'private_key_jwt' }, undefined));
}

/** Registers (or replaces) a confidential client; returns its new secret, which is stored only sealed. */
export async function registerConfidentialOidcClient(db: Kysely<Database>, secretBox: SecretBox, registration: OidcClientRegistration): Promise<string> {
  const authMethod = registration.authMethod === undefined || registration.authMethod === 'none' ? 'client_secret_basic' : registration.authMethod;
  const secret = newClientSecret();
  await storeClient(db, storedClient({ ...registration, authMethod }, secretBox.seal(secret, secretAad(registration.clientId))));
  return secret;
}

export async function findStoredClient(db: Kysely<Database>, clientId: string): Promise<StoredClient | undefined> {
  const row = await findLiveOidcPayload(db, oidcClientKind, 'id', clientId, Date.now());
  return row === undefined ? undefined : (JSON.parse(row.payload) as StoredClient);
}

/**
 * Registers (or replaces) a service client (RFC 6749 4.4): confidential, only the
 * client_credentials grant, no redirect URI, so it can never take part in a sign-in. Returns its
 * new secret, stored only sealed.
 */
export async function registerServiceOidcClient(
  db: Kysely<Database>,
  secretBox: SecretBox,
  clientId: string,
  authMethod: ConfidentialAuthMethod = 'client_secret_basic',
  options: Pick<OidcClientOptions, 'dpop'> = {},
): Promise<string> {
  const secret = newClientSecret();
  await storeClient(db, {
    client_id: checkedServiceClientId(clientId),
    redirect_uris: [],
    token_endpoint_auth_method: authMethod,
    grant_types: ['client_credentials'],
    response_types: [],
    ...(options.dpop === true ? { dpop_bound_access_tokens: true } : {}),
    twofold_client_secret_sealed: secretBox.seal(secret, secretAad(clientId)),
  });
  return secret;
}

/** A new secret for a confidential client; the old one stops working at once. */
export async function rotateOidcClientSecret(db: Kysely<Database>, secretBox: SecretBox, clientId: string): Promise<string> {
  const stored = await findStoredClient(db, clientId);
  if (stored === undefined) throw new TwofoldError('not_found', `There is no client "${clientId}".`);
  if (stored.token_endpoint_auth_method === 'none') throw new TwofoldError('invalid_request', `The client "${clientId}" is public: it has no secret to rotate.`);
  const secret = newClientSecret();
  await storeClient(db, { ...stored, twofold_client_secret_sealed: secretBox.seal(secret, secretAad(clientId)) });
  return secret;
}

/**
 * What the provider gets for a stored client (the adapter's find): its metadata, with the secret
 * opened for a confidential client and Twofold's own fields left out. A secret that does not open
 * (moved from another row, tampered with, or sealed under a key no longer configured) makes the
 * client unknown: the token endpoint answers invalid_client, never a server error.
 */
export function providerClientMetadata(payload: Record<string, unknown>, secretBox: SecretBox): Record<string, unknown> | undefined {
  // The back-channel logout URI is Twofold's to use (backchannel-logout.ts, whatever ends the
  // session): the provider would deliver only from its own logout endpoint, and hold that answer.
  const { twofold_client_secret_sealed: sealed, twofold_first_party: _firstParty, backchannel_logout_uri: _backchannel, ...metadata } = payload as unknown as StoredClient;
  if (sealed === undefined) return metadata as unknown as Record<string, unknown>;
  try {
    return { ...metadata, client_secret: secretBox.open(sealed, secretAad(metadata.client_id)) };
  } catch (error) {
    if (error instanceof SecretBoxError) return undefined;
    throw error;
  }
}

/**
 * What the adapter stores for a client the provider saved itself (dynamic registration): the
 * same row as the operator's, its secret sealed, never in clear.
 */
export function storableClientPayload(payload: Record<string, unknown>, secretBox: SecretBox): Record<string, unknown> {
  const { client_secret: secret, ...metadata } = payload;
  if (typeof secret !== 'string') return metadata;
  return { ...metadata, twofold_client_secret_sealed: secretBox.seal(secret, secretAad(String(metadata['client_id']))) };
}

function summary(stored: StoredClient): OidcClientSummary {
  return {
    clientId: stored.client_id,
    redirectUris: stored.redirect_uris,
    postLogoutRedirectUris: stored.post_logout_redirect_uris ?? [],
    firstParty: stored.twofold_first_party ?? false,
    authMethod: stored.token_endpoint_auth_method,
    ...(stored.backchannel_logout_uri === undefined ? {} : { backchannelLogoutUri: stored.backchannel_logout_uri }),
    grantTypes: stored.grant_types,
    options: clientOptionsSummary(stored),
  };
}

/** The client's back-channel logout URI, if it registered one. */
export async function backchannelLogoutUriOf(db: Kysely<Database>, clientId: string): Promise<string | undefined> {
  return (await findStoredClient(db, clientId))?.backchannel_logout_uri;
}

/** Never carries a secret. */
export async function findOidcClient(db: Kysely<Database>, clientId: string): Promise<OidcClientSummary | undefined> {
  const stored = await findStoredClient(db, clientId);
  return stored === undefined ? undefined : summary(stored);
}

/** Never carries a secret. */
export async function listOidcClients(db: Kysely<Database>): Promise<OidcClientSummary[]> {
  const rows = await listOidcPayloads(db, oidcClientKind);
  return rows.map((row) => summary(JSON.parse(row.payload) as StoredClient));
}

/** True when there was such a client. */
export async function removeOidcClient(db: Kysely<Database>, clientId: string): Promise<boolean> {
  return deleteOidcPayload(db, oidcClientKind, clientId);
}
