// A first-party client (the operator's own, `--first-party`) is granted what it asks without a
// question (consent.ts). The login interaction therefore grants it at once, with the login: the
// consent step's own round trip (a redirect to a second interaction and back, two of a provider
// login's ten requests) is saved. It grants what the request names of the OpenID scopes and claims;
// anything else — a resource server's scopes, offline_access, prompt=consent — still brings the
// consent step, which grants the rest, so nothing is granted here that the consent step would not.
// The grant is the one this Twofold session already holds for the client, or a new one, saved
// together with its binding to the session in one transaction (one commit instead of two; the
// provider finds it bound when it resumes, session-grants.ts).
import type Provider from 'oidc-provider';
import type { FlowContext } from '../flows/shared/context.js';
import { insertOidcSessionGrant, listOidcGrantsOfSessions } from '../store/repositories/oidc-session-grants.js';
import { withProviderRowsInTransaction } from './rows-in-transaction.js';
import { claimNamesRequested } from './claims-parameter.js';
import { scopeClaims } from './scope-claims.js';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/** The scopes whose claims the provider gives (scope-claims.ts). */
const openIdScopes = new Set(Object.keys(scopeClaims));

export async function grantForFirstPartyLogin(ctx: FlowContext, provider: Provider, details: InteractionDetails, accountId: string, clientId: string, twofoldSessionId: string): Promise<string> {
  const now = ctx.now();
  const held = (await listOidcGrantsOfSessions(ctx.db, [twofoldSessionId])).filter((row) => row.client_id === clientId && Number(row.expires_at) > now);
  const existing = held.length === 0 ? undefined : await provider.Grant.find(held.at(-1)!.id);
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const scopes = typeof details.params['scope'] === 'string' ? details.params['scope'].split(' ').filter((scope) => openIdScopes.has(scope)) : [];
  if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
  const claims = claimNamesRequested(details.params['claims']);
  if (claims.length > 0) grant.addOIDCClaims(claims);
  if (existing !== undefined) return grant.save();
  return withProviderRowsInTransaction(ctx.db, async (trx) => {
    const grantId = await grant.save();
    await insertOidcSessionGrant(trx, { id: grantId, session_id: twofoldSessionId, client_id: clientId, user_id: accountId, expires_at: now + ctx.config.sessions.absoluteTimeoutSeconds * 1000 });
    return grantId;
  });
}
