// `twofold clients add|list|remove`: the OpenID Provider's clients (TWOFOLD_OIDC). This step
// registers public clients only (PKCE, no secret), so nothing secret is printed or stored.
import { checkedClientRegistration, listOidcClients, registerPublicOidcClient, removeOidcClient } from '../../oidc/clients.js';
import { printJson, printLines, printTable, terminalText } from '../output.js';
import { withTwofold } from './with-twofold.js';

export async function addClientCommand(options: { id: string; redirectUri: string[]; json?: boolean }): Promise<void> {
  // Checked before the database is opened: a typo costs nothing.
  const registration = checkedClientRegistration(options.id, options.redirectUri);
  await withTwofold(async (twofold) => {
    await registerPublicOidcClient(twofold.database.db, registration);
    if (options.json === true) printJson({ client_id: registration.clientId, redirect_uris: registration.redirectUris, token_endpoint_auth_method: 'none' });
    else printLines(`client ${terminalText(registration.clientId)} registered (public: PKCE, no secret) for ${registration.redirectUris.map(terminalText).join(', ')}.`);
  });
}

export async function listClientsCommand(options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const clients = await listOidcClients(twofold.database.db);
    if (options.json === true) printJson(clients.map((client) => ({ client_id: client.clientId, redirect_uris: client.redirectUris })));
    else printTable(clients.map((client) => ({ client_id: client.clientId, redirect_uris: client.redirectUris.join(' ') })));
  });
}

export async function removeClientCommand(clientId: string, options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const removed = await removeOidcClient(twofold.database.db, clientId);
    if (options.json === true) printJson({ client_id: clientId, removed });
    else printLines(removed ? `client ${terminalText(clientId)} removed.` : `no client ${terminalText(clientId)}.`);
  });
}
