// Clients of the OpenID Provider, registered by the operator (no dynamic registration). This first
// step registers public clients only (token_endpoint_auth_method none, PKCE required of every
// client): no client secret exists, so none can be stored or leak. They live with the provider's
// other rows, as its adapter's Client kind, which the provider reads and validates on each use.
import type { Kysely } from 'kysely';
import { TwofoldError } from '../errors.js';
import type { Database } from '../store/database.js';
import { deleteOidcPayload, listOidcPayloads, upsertOidcPayload } from '../store/repositories/oidc-payloads.js';

const clientKind = 'Client';

export interface OidcClientRegistration {
  clientId: string;
  redirectUris: string[];
}

const clientIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A registration as typed by an operator, checked before anything is stored: a client id of safe
 * characters, and redirect URIs that are absolute https URLs (http only on this machine's loopback,
 * for development), without a fragment or credentials — compared exactly by the provider later.
 */
export function checkedClientRegistration(clientId: string, redirectUris: readonly string[]): OidcClientRegistration {
  if (!clientIdPattern.test(clientId)) throw new TwofoldError('invalid_request', 'A client id is 1 to 64 letters, digits, ".", "_" or "-".');
  if (redirectUris.length === 0) throw new TwofoldError('invalid_request', 'A client needs at least one redirect URI.');
  for (const uri of redirectUris) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new TwofoldError('invalid_request', `The redirect URI "${uri}" is not an absolute URL.`);
    }
    const allowedScheme = url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHosts.has(url.hostname));
    if (!allowedScheme) throw new TwofoldError('invalid_request', `The redirect URI "${uri}" must be https (http only for localhost).`);
    if (url.hash !== '' || uri.includes('#') || url.username !== '' || url.password !== '') throw new TwofoldError('invalid_request', `The redirect URI "${uri}" may not carry a fragment or credentials.`);
  }
  return { clientId, redirectUris: [...redirectUris] };
}

export async function registerPublicOidcClient(db: Kysely<Database>, registration: OidcClientRegistration): Promise<void> {
  const metadata = {
    client_id: registration.clientId,
    redirect_uris: registration.redirectUris,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
  };
  await upsertOidcPayload(db, { kind: clientKind, id: registration.clientId, payload: JSON.stringify(metadata), grant_id: null, user_code: null, uid: null, expires_at: null, consumed_at: null });
}

export async function listOidcClients(db: Kysely<Database>): Promise<OidcClientRegistration[]> {
  const rows = await listOidcPayloads(db, clientKind);
  return rows.map((row) => {
    const metadata = JSON.parse(row.payload) as { redirect_uris: string[] };
    return { clientId: row.id, redirectUris: metadata.redirect_uris };
  });
}

/** True when there was such a client. */
export async function removeOidcClient(db: Kysely<Database>, clientId: string): Promise<boolean> {
  return deleteOidcPayload(db, clientKind, clientId);
}
