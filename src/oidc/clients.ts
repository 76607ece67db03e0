// Clients of the OpenID Provider, registered by the operator (no dynamic registration). This first
// step registers public clients only (token_endpoint_auth_method none, PKCE required of every
// client): no client secret exists, so none can be stored or leak. They live with the provider's
// other rows, as its adapter's Client kind, which the provider reads and validates on each use.
import type { Kysely } from 'kysely';
import type { Database } from '../store/database.js';
import { deleteOidcPayload, listOidcPayloads, upsertOidcPayload } from '../store/repositories/oidc-payloads.js';

const clientKind = 'Client';

export interface OidcClientRegistration {
  clientId: string;
  redirectUris: string[];
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

export async function removeOidcClient(db: Kysely<Database>, clientId: string): Promise<void> {
  await deleteOidcPayload(db, clientKind, clientId);
}
