// The provider's grants belong to the Twofold session they were made in. The login interaction
// hands the provider the Twofold session id with the login (interaction.ts); when the provider
// then looks for the grant of that app (loadExistingGrant), a grant made in another Twofold session
// is not reused — a new one is made — and a new grant is bound to this session. So every grant,
// and every code, access and refresh token under it, has exactly one Twofold session: the ID
// token's `sid` is that session's id (the one the revoked-sessions feed names when it ends), and
// ending the session revokes its grants (session-end.ts).
import type { Configuration, FindAccount, InteractionResults, KoaContextWithOIDC } from 'oidc-provider';
import type { FlowContext } from '../flows/shared/context.js';
import type { SessionRow } from '../store/database.js';
import { findOidcAccountWithGrantSession, findOidcGrantSession, findOidcSessionGrant, insertOidcSessionGrant } from '../store/repositories/oidc-session-grants.js';
import { findUserById } from '../store/repositories/users.js';
import { accountOfUser } from './account.js';

/** The Twofold session id the login interaction put in its result (interaction.ts). */
export function twofoldSessionOfLogin(result: InteractionResults | undefined): string | undefined {
  const sessionId = (result?.['login'] as { twofoldSessionId?: unknown } | undefined)?.twofoldSessionId;
  return typeof sessionId === 'string' ? sessionId : undefined;
}

/**
 * The provider's loadExistingGrant: the app's grant of this Twofold session, or none (the provider
 * then makes one, through the consent step). A grant the consent step has just made is bound here.
 * Before the login interaction (no Twofold session known yet) nothing is reused: the login
 * interaction runs on every authorization anyway (provider.ts).
 */
export function loadGrantOfTwofoldSession(ctx: FlowContext): NonNullable<Configuration['loadExistingGrant']> {
  return async (koa: KoaContextWithOIDC) => {
    const sessionId = twofoldSessionOfLogin(koa.oidc.result);
    const client = koa.oidc.client;
    const session = koa.oidc.session;
    if (sessionId === undefined || client === undefined || session === undefined) return undefined;
    const consentGrantId = (koa.oidc.result?.['consent'] as { grantId?: unknown } | undefined)?.grantId;
    const grantId = typeof consentGrantId === 'string' ? consentGrantId : session.grantIdFor(client.clientId);
    if (grantId === undefined) return undefined;
    const grant = await koa.oidc.provider.Grant.find(grantId);
    if (grant === undefined || grant.clientId !== client.clientId) return undefined;
    const bound = await findOidcSessionGrant(ctx.db, grantId, ctx.now());
    if (bound === undefined) {
      // Only a grant just made for this login is new to every session; an older one of the
      // browser's provider session (a Twofold session that has since ended) is not taken over.
      if (grantId !== consentGrantId) return undefined;
      await insertOidcSessionGrant(ctx.db, {
        id: grantId,
        session_id: sessionId,
        client_id: client.clientId,
        user_id: String(grant.accountId),
        expires_at: ctx.now() + ctx.config.sessions.absoluteTimeoutSeconds * 1000,
      });
    } else if (bound.session_id !== sessionId) {
      return undefined;
    }
    // The provider's own sid for this app (given when the claims parameter asks for sid) is the
    // Twofold session id too, so that every sid an app sees is the same.
    session.sidFor(client.clientId, sessionId);
    return grant;
  };
}

/** The one test of "the Twofold session behind a provider token is still going": active, not revoked, not past its absolute end. */
export function twofoldSessionIsLive(ctx: FlowContext, sessionId: string, session: { state: SessionRow['state'] | null; revoked_at: number | null; expires_at: number | null } | undefined): boolean {
  const now = ctx.now();
  return session?.state === 'active' && session.revoked_at === null && session.expires_at !== null && now < session.expires_at && !ctx.revokedSessions.has(sessionId, now);
}

/** The Twofold session a grant was made in, and whether it is still going. */
export interface GrantSession {
  sessionId: string;
  live: boolean;
}

/**
 * What a request has read of its grants' sessions (findAccount reads it with the account; the
 * token endpoint's claims and refresh checks come after it in the same request), by the provider's
 * request context: one read per request instead of two or three.
 */
const grantSessionsOfRequest = new WeakMap<object, Map<string, GrantSession | undefined>>();

function rememberGrantSession(koa: object | undefined, grantId: string, session: GrantSession | undefined): void {
  if (koa === undefined) return;
  let known = grantSessionsOfRequest.get(koa);
  if (known === undefined) grantSessionsOfRequest.set(koa, (known = new Map()));
  known.set(grantId, session);
}

/** The Twofold session a grant was made in, and whether it is still going; undefined for a grant bound to none. */
export async function twofoldSessionOfGrant(ctx: FlowContext, grantId: string, koa?: object): Promise<GrantSession | undefined> {
  const known = koa === undefined ? undefined : grantSessionsOfRequest.get(koa);
  if (known?.has(grantId) === true) return known.get(grantId);
  const bound = await findOidcGrantSession(ctx.db, grantId, ctx.now());
  const session = bound === undefined ? undefined : { sessionId: bound.session_id, live: twofoldSessionIsLive(ctx, bound.session_id, bound) };
  rememberGrantSession(koa, grantId, session);
  return session;
}

/**
 * findAccount, whose ID token claims carry `sid`: the Twofold session of the token's grant. A token
 * of a grant whose Twofold session has ended finds no account — the provider refuses it
 * (invalid_grant, invalid_token) — even if the grant's revocation (session-end.ts) never ran. The
 * user and the grant's session are one query.
 */
export function findAccountWithTwofoldSid(ctx: FlowContext): FindAccount {
  return async (koa, sub, token) => {
    const grantId = token?.grantId;
    if (grantId === undefined) return accountOfUser(await findUserById(ctx.db, sub));
    const row = await findOidcAccountWithGrantSession(ctx.db, sub, grantId, ctx.now());
    const account = accountOfUser(row);
    if (account === undefined || row === undefined) return account;
    const bound = row.session_id === null ? undefined : { sessionId: row.session_id, live: twofoldSessionIsLive(ctx, row.session_id, { state: row.state, revoked_at: row.revoked_at, expires_at: row.session_expires_at }) };
    rememberGrantSession(koa, grantId, bound);
    if (bound === undefined) return account;
    if (!bound.live) return undefined;
    return {
      ...account,
      claims: async (use, scope, claims, rejected) => ({ ...(await account.claims(use, scope, claims, rejected)), ...(use === 'id_token' ? { sid: bound.sessionId } : {}) }),
    };
  };
}
