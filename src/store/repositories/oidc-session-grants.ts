// The Twofold session of each OpenID Provider grant (src/oidc/session-grants.ts): written when a
// grant is first used for a login, read for the ID token's sid and when sessions end.
import type { Executor, OidcSessionGrantRow, SessionRow, UserRow } from '../database.js';
import { prepareQuery } from '../prepared-query.js';
import { deleteOidcGrantRows } from './oidc-payloads.js';

/** Binds a grant to its session; a grant already bound keeps its first session. */
export async function insertOidcSessionGrant(db: Executor, row: OidcSessionGrantRow): Promise<void> {
  await db.insertInto('oidc_session_grants').values(row).onConflict((conflict) => conflict.column('id').doNothing()).execute();
}

export function findOidcSessionGrant(db: Executor, grantId: string, now: number): Promise<OidcSessionGrantRow | undefined> {
  return db.selectFrom('oidc_session_grants').selectAll().where('id', '=', grantId).where('expires_at', '>', now).executeTakeFirst();
}

/** A grant's binding joined with its session's state, in one query (every use of a provider token reads it). */
export interface OidcGrantSessionRow {
  session_id: string;
  /** Null when the session row is gone. */
  state: SessionRow['state'] | null;
  revoked_at: number | null;
  expires_at: number | null;
}

const grantSessionQuery = prepareQuery<OidcGrantSessionRow>((db) =>
  db
    .selectFrom('oidc_session_grants')
    .leftJoin('sessions', 'sessions.id', 'oidc_session_grants.session_id')
    .select(['oidc_session_grants.session_id', 'sessions.state', 'sessions.revoked_at', 'sessions.expires_at'])
    .where('oidc_session_grants.id', '=', '')
    .where('oidc_session_grants.expires_at', '>', 0),
);

export async function findOidcGrantSession(db: Executor, grantId: string, now: number): Promise<OidcGrantSessionRow | undefined> {
  return (await grantSessionQuery(db, [grantId, now]))[0];
}

/** What the provider's findAccount needs of a user, with the grant's binding and its session (null columns when unbound). */
export type OidcAccountRow = Pick<UserRow, 'id' | 'email' | 'email_verified_at' | 'disabled_at'> & {
  /** Null when the grant is bound to no session (or the binding has expired). */
  session_id: string | null;
  state: SessionRow['state'] | null;
  revoked_at: number | null;
  session_expires_at: number | null;
};

const accountWithGrantSessionQuery = prepareQuery<OidcAccountRow>((db) =>
  db
    .selectFrom('users')
    .leftJoin('oidc_session_grants', (join) => join.on('oidc_session_grants.id', '=', '').on('oidc_session_grants.expires_at', '>', 0))
    .leftJoin('sessions', 'sessions.id', 'oidc_session_grants.session_id')
    .select(['users.id', 'users.email', 'users.email_verified_at', 'users.disabled_at', 'oidc_session_grants.session_id', 'sessions.state', 'sessions.revoked_at', 'sessions.expires_at as session_expires_at'])
    .where('users.id', '=', ''),
);

/**
 * The user behind a provider token and its grant's Twofold session, in one query (every use of a
 * provider token reads both: userinfo, the token endpoint).
 */
export async function findOidcAccountWithGrantSession(db: Executor, userId: string, grantId: string, now: number): Promise<OidcAccountRow | undefined> {
  return (await accountWithGrantSessionQuery(db, [grantId, now, userId]))[0];
}

/** The grants made in these sessions (an index lookup per session). */
export function listOidcGrantsOfSessions(db: Executor, sessionIds: readonly string[]): Promise<OidcSessionGrantRow[]> {
  if (sessionIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('oidc_session_grants').selectAll().where('session_id', 'in', sessionIds).orderBy('id').execute();
}

/** Forgets the grants and deletes what the provider kept of them: the grant and every row made under it (codes, access and refresh tokens). */
export async function deleteOidcGrants(db: Executor, grantIds: readonly string[]): Promise<void> {
  if (grantIds.length === 0) return;
  await deleteOidcGrantRows(db, grantIds);
  await db.deleteFrom('oidc_session_grants').where('id', 'in', grantIds).execute();
}
