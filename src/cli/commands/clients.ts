// `twofold clients add|update|list|show|rotate-secret|remove`: the OpenID Provider's clients
// (TWOFOLD_OIDC). A confidential client's secret is printed once, when it is made (add
// --confidential or --service, rotate-secret), and stored only sealed; list and show never print
// one; update keeps it. A private_key_jwt client has no secret: its public keys are registered instead.
import {
  checkedClientRegistration,
  checkedServiceClientId,
  confidentialAuthMethods,
  findOidcClient,
  listOidcClients,
  registerConfidentialOidcClient,
  registerKeyAuthenticatedOidcClient,
  registerPublicOidcClient,
  registerServiceOidcClient,
  removeOidcClient,
  rotateOidcClientSecret,
  type ClientAuthMethod,
  type ConfidentialAuthMethod,
  type OidcClientSummary,
} from '../../oidc/clients.js';
import { updateOidcClient } from '../../oidc/client-update.js';
import { announceClientChange } from '../../oidc/client-change.js';
import { TwofoldError } from '../../errors.js';
import { clientOptionsFromFlags, type ClientOptionFlags } from './client-options.js';
import { printJson, printLines, printTable, terminalText } from '../output.js';
import { withTwofold } from './with-twofold.js';

export interface AddClientOptions extends ClientOptionFlags {
  id: string;
  redirectUri?: string[];
  postLogoutRedirectUri?: string[];
  confidential?: boolean;
  authMethod?: string;
  firstParty?: boolean;
  backchannelLogoutUri?: string;
  grant?: string[];
  service?: boolean;
  json?: boolean;
}

/** The grants `--grant` may add to authorization_code (which every client with a redirect URI has). */
const extraGrants = new Set(['authorization_code', 'refresh_token']);

function clientJson(client: OidcClientSummary) {
  return {
    client_id: client.clientId,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    token_endpoint_auth_method: client.authMethod,
    first_party: client.firstParty,
    ...(client.backchannelLogoutUri === undefined ? {} : { backchannel_logout_uri: client.backchannelLogoutUri }),
    grant_types: client.grantTypes,
    required_acr: client.options.requiredAcr,
    subject_type: client.options.subjectType,
    require_par: client.options.requirePar,
    native: client.options.native,
    dpop: client.options.dpop,
    ...(client.options.jwksUri === undefined ? {} : { jwks_uri: client.options.jwksUri }),
    ...(client.options.jwksKeys === 0 ? {} : { jwks_keys: client.options.jwksKeys }),
  };
}

function clientRow(client: OidcClientSummary) {
  return {
    client_id: client.clientId,
    auth_method: client.authMethod,
    first_party: client.firstParty,
    grant_types: client.grantTypes.join(' '),
    required_acr: client.options.requiredAcr,
    subject_type: client.options.subjectType,
    require_par: client.options.requirePar,
    dpop: client.options.dpop,
    redirect_uris: client.redirectUris.join(' '),
    post_logout_redirect_uris: client.postLogoutRedirectUris.join(' '),
    backchannel_logout_uri: client.backchannelLogoutUri ?? null,
  };
}

async function addServiceClient(options: AddClientOptions): Promise<void> {
  if (options.redirectUri !== undefined || options.postLogoutRedirectUri !== undefined || options.grant !== undefined || options.confidential === true) {
    throw new TwofoldError('invalid_request', 'A --service client has only the client_credentials grant: no redirect URIs, --grant or --confidential.');
  }
  const authMethod = (options.authMethod ?? 'client_secret_basic') as ConfidentialAuthMethod;
  // Checked before the database is opened, as any client's.
  checkedServiceClientId(options.id);
  if (!confidentialAuthMethods.includes(authMethod)) throw new TwofoldError('invalid_request', `The auth method "${authMethod}" is not one of ${confidentialAuthMethods.join(', ')}.`);
  await withTwofold(async (twofold) => {
    const secret = await registerServiceOidcClient(twofold.database.db, twofold.context.secretBox, options.id, authMethod, { dpop: options.dpop === true });
    await announceClientChange(twofold.context.kv);
    const client = await findOidcClient(twofold.database.db, options.id);
    if (client === undefined) throw new Error('the client just registered is missing');
    if (options.json === true) printJson({ ...clientJson(client), client_secret: secret });
    else printLines(`client ${terminalText(client.clientId)} registered (service: client_credentials, ${client.authMethod}).`, `client secret (shown once, store it now): ${secret}`);
  });
}

export async function addClientCommand(options: AddClientOptions): Promise<void> {
  if (options.service === true) return addServiceClient(options);
  const unknownGrant = (options.grant ?? []).find((grant) => !extraGrants.has(grant));
  if (unknownGrant !== undefined) throw new TwofoldError('invalid_request', `--grant takes refresh_token (got "${unknownGrant}"); a service client is --service.`);
  if (options.authMethod !== undefined && options.confidential !== true) throw new TwofoldError('invalid_request', '--auth-method is for confidential clients: add --confidential.');
  const authMethod = (options.confidential === true ? (options.authMethod ?? 'client_secret_basic') : 'none') as ClientAuthMethod;
  const keyed = authMethod === 'private_key_jwt';
  // Checked before the database is opened: a typo costs nothing.
  const registration = checkedClientRegistration(options.id, options.redirectUri ?? [], {
    postLogoutRedirectUris: options.postLogoutRedirectUri ?? [],
    firstParty: options.firstParty === true,
    authMethod,
    backchannelLogoutUri: options.backchannelLogoutUri,
    refreshTokens: (options.grant ?? []).includes('refresh_token'),
    options: clientOptionsFromFlags(options),
  });
  await withTwofold(async (twofold) => {
    const db = twofold.database.db;
    const secret = authMethod === 'none' || keyed ? undefined : await registerConfidentialOidcClient(db, twofold.context.secretBox, registration);
    if (keyed) await registerKeyAuthenticatedOidcClient(db, registration);
    else if (secret === undefined) await registerPublicOidcClient(db, registration);
    await announceClientChange(twofold.context.kv);
    const client = await findOidcClient(db, registration.clientId);
    if (client === undefined) throw new Error('the client just registered is missing');
    if (options.json === true) printJson({ ...clientJson(client), ...(secret === undefined ? {} : { client_secret: secret }) });
    else if (keyed) printLines(`client ${terminalText(client.clientId)} registered (confidential: private_key_jwt, PKCE) for ${client.redirectUris.map(terminalText).join(', ')}.`);
    else if (secret === undefined) printLines(`client ${terminalText(client.clientId)} registered (public: PKCE, no secret) for ${client.redirectUris.map(terminalText).join(', ')}.`);
    else printLines(`client ${terminalText(client.clientId)} registered (confidential: ${client.authMethod}, PKCE) for ${client.redirectUris.map(terminalText).join(', ')}.`, `client secret (shown once, store it now): ${secret}`);
  });
}

export interface UpdateClientOptions extends ClientOptionFlags {
  redirectUri?: string[];
  postLogoutRedirectUri?: string[];
  firstParty?: boolean;
  json?: boolean;
}

export async function updateClientCommand(clientId: string, options: UpdateClientOptions): Promise<void> {
  const changes = {
    ...(options.redirectUri === undefined ? {} : { redirectUris: options.redirectUri }),
    ...(options.postLogoutRedirectUri === undefined ? {} : { postLogoutRedirectUris: options.postLogoutRedirectUri }),
    ...(options.firstParty === undefined ? {} : { firstParty: options.firstParty }),
    options: clientOptionsFromFlags(options),
  };
  await withTwofold(async (twofold) => {
    const client = await updateOidcClient(twofold.database.db, clientId, changes);
    await announceClientChange(twofold.context.kv);
    if (options.json === true) printJson(clientJson(client));
    else printLines(`client ${terminalText(client.clientId)} updated (its secret, if any, is unchanged).`);
  });
}

export async function listClientsCommand(options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const clients = await listOidcClients(twofold.database.db);
    if (options.json === true) printJson(clients.map(clientJson));
    else printTable(clients.map(clientRow));
  });
}

export async function showClientCommand(clientId: string, options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const client = await findOidcClient(twofold.database.db, clientId);
    if (client === undefined) throw new TwofoldError('not_found', `There is no client "${clientId}".`);
    if (options.json === true) printJson(clientJson(client));
    else printTable([clientRow(client)]);
  });
}

export async function rotateClientSecretCommand(clientId: string, options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const secret = await rotateOidcClientSecret(twofold.database.db, twofold.context.secretBox, clientId);
    await announceClientChange(twofold.context.kv);
    if (options.json === true) printJson({ client_id: clientId, client_secret: secret });
    else printLines(`client ${terminalText(clientId)} has a new secret; the old one no longer works.`, `client secret (shown once, store it now): ${secret}`);
  });
}

export async function removeClientCommand(clientId: string, options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const removed = await removeOidcClient(twofold.database.db, clientId);
    await announceClientChange(twofold.context.kv);
    if (options.json === true) printJson({ client_id: clientId, removed });
    else printLines(removed ? `client ${terminalText(clientId)} removed.` : `no client ${terminalText(clientId)}.`);
  });
}
