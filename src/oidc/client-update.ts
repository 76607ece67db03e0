// `twofold clients update`: a registered client changed in place — its redirect URIs, whether it is
// first-party, its options (client-options.ts) — checked exactly as a new registration is, and
// keeping what the change does not name: its auth method, its sealed secret (an update never
// makes or shows a secret), and the fields of the row this step does not manage.
import type { Kysely } from 'kysely';
import { TwofoldError } from '../errors.js';
import type { Database } from '../store/database.js';
import { clientOptionsOf, type OidcClientOptions } from './client-options.js';
import { checkedClientRegistration, findOidcClient, findStoredClient, storeClient, storedClient, type OidcClientSummary } from './clients.js';

export interface OidcClientChanges {
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  firstParty?: boolean;
  /** Only the options named change; `jwks: undefined` and the like are not "remove". */
  options?: Partial<OidcClientOptions>;
  /** Options to clear, back to their defaults. */
  clear?: Array<keyof OidcClientOptions>;
}

export async function updateOidcClient(db: Kysely<Database>, clientId: string, changes: OidcClientChanges): Promise<OidcClientSummary> {
  const stored = await findStoredClient(db, clientId);
  if (stored === undefined) throw new TwofoldError('not_found', `There is no client "${clientId}".`);
  const options: OidcClientOptions = { ...clientOptionsOf(stored) };
  for (const [name, value] of Object.entries(changes.options ?? {})) {
    if (value !== undefined) (options as Record<string, unknown>)[name] = value;
  }
  for (const name of changes.clear ?? []) delete options[name];
  const registration = checkedClientRegistration(clientId, changes.redirectUris ?? stored.redirect_uris, {
    postLogoutRedirectUris: changes.postLogoutRedirectUris ?? stored.post_logout_redirect_uris ?? [],
    firstParty: changes.firstParty ?? stored.twofold_first_party ?? false,
    authMethod: stored.token_endpoint_auth_method,
    options,
  });
  // The row's other fields (its grant and response types among them) stay; the ones managed here
  // are replaced, an emptied list removed.
  const { grant_types: _grants, response_types: _responses, ...managed } = storedClient(registration, stored.twofold_client_secret_sealed);
  await storeClient(db, { ...stored, post_logout_redirect_uris: undefined, ...managed });
  const summary = await findOidcClient(db, clientId);
  if (summary === undefined) throw new Error('the client just updated is missing');
  return summary;
}
