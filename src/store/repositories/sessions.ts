// Sessions. A session starts "pending" at the password step, bound to exactly one mfa_token
// (mfa_jti); the second factor turns it "active" with a compare-and-set, so an mfa_token
// completes at most one login even when verified concurrently (FL-03). Revocation is a state.
import { sql } from 'kysely';
import type { Executor, NewSession, SessionRow, UserRow } from '../database.js';
import { prepareQuery } from '../prepared-query.js';

export async function insertSession(db: Executor, session: NewSession): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

/** What makes a signed-in session live at `now`: not revoked, and inside both of its deadlines. */
export interface LiveAt {
  now: number;
  /** TWOFOLD_SESSION_IDLE_TIMEOUT_SECONDS in ms: a session unused this long is over, retired or not. */
  idleMs: number;
}

/** Where a page of a user's sessions starts: strictly before this (created_at, id). */
export interface SessionsPageCursor {
  createdAt: number;
  id: string;
}

/**
 * One page of the user's signed-in sessions that are live by time (a timed-out session the retirer
 * has not reached yet is not shown as signed in), newest first in the strict order (created_at, id).
 * Read along the index sessions_user_live without a sort; built apart so a test can EXPLAIN it.
 */
export function liveSessionsOfUserPageQuery(db: Executor, userId: string, live: LiveAt, page: { limit: number; before?: SessionsPageCursor | undefined }) {
  const query = db
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('state', '=', 'active')
    .where('expires_at', '>', live.now)
    .where('last_active_at', '>', live.now - live.idleMs);
  const before = page.before;
  const paged = before === undefined ? query : query.where(({ eb, refTuple, tuple }) => eb(refTuple('created_at', 'id'), '<', tuple(before.createdAt, before.id)));
  return paged.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit);
}

export function listLiveSessionsOfUserPage(db: Executor, userId: string, live: LiveAt, page: { limit: number; before?: SessionsPageCursor | undefined }): Promise<SessionRow[]> {
  return liveSessionsOfUserPageQuery(db, userId, live, page).execute();
}

/**
 * The user's live signed-in sessions beyond the newest `keep` (other than `exceptId`, the one
 * signing in now), oldest last: the ones a new sign-in over the cap ends. Same index, no sort.
 */
export function sessionsBeyondCapQuery(db: Executor, userId: string, live: LiveAt, input: { keep: number; exceptId: string; limit: number }) {
  return db
    .selectFrom('sessions')
    .select(['id', 'auth_time', 'last_active_at'])
    .where('user_id', '=', userId)
    .where('state', '=', 'active')
    .where('expires_at', '>', live.now)
    .where('last_active_at', '>', live.now - live.idleMs)
    .where('id', '!=', input.exceptId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit)
    .offset(input.keep);
}

/** A session that ended: enough to know whether its access tokens may still be alive. */
export type EndedSession = Pick<SessionRow, 'id' | 'auth_time' | 'last_active_at'>;

/**
 * Up to `limit` of the user's sessions in `state` (other than `exceptId`), by the index
 * sessions_user_live. Ending them moves them out of the state, so the caller asks again for the
 * next batch without a cursor.
 */
export function sessionsOfUserInStateQuery(db: Executor, userId: string, state: 'pending' | 'active', input: { exceptId?: string | undefined; limit: number }) {
  const query = db.selectFrom('sessions').select(['id', 'auth_time', 'last_active_at']).where('user_id', '=', userId).where('state', '=', state);
  // Oldest first: the order of the index, which also keeps a planner from reading another index
  // (a deadline's, holding every user's sessions) and filtering it for this user's.
  return (input.exceptId === undefined ? query : query.where('id', '!=', input.exceptId)).orderBy('created_at').orderBy('id').limit(input.limit);
}

/**
 * Ends the given sessions and their refresh-token families in two statements (whatever their
 * number, at most a batch): the tokens first, the order a refresh takes its locks in, so this
 * cannot deadlock with one. A rotation's sealed answer (kept for the reuse grace) goes with them:
 * nothing of a dead family stays openable. Returns the sessions this call ended (not those
 * already ended).
 */
export async function revokeSessions(db: Executor, sessionIds: readonly string[], reason: string, now: number): Promise<EndedSession[]> {
  if (sessionIds.length === 0) return [];
  await db.updateTable('refresh_tokens').set({ revoked_at: now, grace_answer_ciphertext: null }).where('session_id', 'in', sessionIds).where('revoked_at', 'is', null).execute();
  return db
    .updateTable('sessions')
    .set({ state: 'revoked', revoked_at: now, revoke_reason: reason, mfa_jti: null })
    .where('id', 'in', sessionIds)
    .where('state', '!=', 'revoked')
    .returning(['id', 'auth_time', 'last_active_at'])
    .execute();
}

/** Why the retirer ends a session: each has its own index range. */
export type TimeoutKind = 'absolute_timeout' | 'idle_timeout' | 'login_expired';

/**
 * Up to `limit` sessions past a deadline that are not marked ended yet: signed-in sessions past
 * their absolute deadline (index sessions_active_expires) or idle too long (sessions_active_last_active),
 * and logins whose mfa_token has expired (sessions_pending_expires).
 */
export function timedOutSessionsQuery(db: Executor, kind: TimeoutKind, live: LiveAt, limit: number) {
  // The state as a literal: it is what matches the partial indexes (migration 0013).
  const query = db.selectFrom('sessions').select('id');
  if (kind === 'idle_timeout') return query.where('state', '=', sql.lit('active')).where('last_active_at', '<=', live.now - live.idleMs).orderBy('last_active_at').limit(limit);
  return query
    .where('state', '=', sql.lit(kind === 'login_expired' ? 'pending' : 'active'))
    .where('expires_at', '<=', live.now)
    .orderBy('expires_at')
    .limit(limit);
}

export async function listTimedOutSessions(db: Executor, kind: TimeoutKind, live: LiveAt, limit: number): Promise<string[]> {
  return (await timedOutSessionsQuery(db, kind, live, limit).execute()).map((row) => row.id);
}

/** Up to `limit` ended sessions whose absolute deadline passed before `before` (index sessions_revoked_expires). */
export function endedSessionsBeforeQuery(db: Executor, before: number, limit: number) {
  return db.selectFrom('sessions').select('id').where('state', '=', sql.lit('revoked')).where('expires_at', '<', before).orderBy('expires_at').limit(limit);
}

/** Deletes one batch of long-ended sessions; their refresh tokens and challenges go with them (cascade). */
export async function deleteEndedSessionsBefore(db: Executor, before: number, limit: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('id', 'in', endedSessionsBeforeQuery(db, before, limit)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

const sessionById = prepareQuery<SessionRow>((db) => db.selectFrom('sessions').selectAll().where('id', '=', '?'));

/** Every column of a user row; a test checks the list against the table, so a new column cannot be missed. */
export const userColumns = ['id', 'username', 'email', 'phone', 'password_hash', 'failed_attempts', 'created_at', 'updated_at', 'disabled_at', 'locked_at', 'credentials_changed_at', 'email_verified_at', 'passkey_offer_dismissed_at', 'last_sign_in_at', 'delete_after', 'password_reset_required_at', 'phone_reversed'] as const satisfies ReadonlyArray<keyof UserRow>;
const userPrefix = 'user__';
type SessionWithPrefixedUser = SessionRow & { [Column in keyof UserRow as `${typeof userPrefix}${Column}`]: UserRow[Column] };

// One round trip for what every authenticated request reads: the session and its user. The user's
// columns carry a prefix, so the two rows cannot clash in one result row.
/** Exported for its EXPLAIN (the primary keys of both tables, whatever their size). */
export const sessionWithUserByIdQuery = (db: Executor) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('sessions')
    .select((eb) => userColumns.map((column) => eb.ref(`users.${column}`).as(`${userPrefix}${column}`)))
    .where('sessions.id', '=', '?');
const sessionWithUserById = prepareQuery<SessionWithPrefixedUser>(sessionWithUserByIdQuery);

export async function findSessionWithUser(db: Executor, sessionId: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const [row] = await sessionWithUserById(db, [sessionId]);
  if (row === undefined) return undefined;
  // Runs on every authenticated request: two literals of fixed shape (TypeScript checks that each
  // names every column of its row type) instead of a generic loop over the joined row's keys.
  const session: SessionRow = {
    id: row.id,
    user_id: row.user_id,
    state: row.state,
    mfa_jti: row.mfa_jti,
    mfa_attempts: row.mfa_attempts,
    amr: row.amr,
    acr: row.acr,
    auth_time: row.auth_time,
    client_id: row.client_id,
    ip: row.ip,
    user_agent: row.user_agent,
    created_at: row.created_at,
    expires_at: row.expires_at,
    last_active_at: row.last_active_at,
    revoked_at: row.revoked_at,
    revoke_reason: row.revoke_reason,
    credentials_changed_at: row.credentials_changed_at,
    dpop_jkt: row.dpop_jkt,
  };
  const user: UserRow = {
    id: row.user__id,
    username: row.user__username,
    email: row.user__email,
    phone: row.user__phone,
    password_hash: row.user__password_hash,
    failed_attempts: row.user__failed_attempts,
    created_at: row.user__created_at,
    updated_at: row.user__updated_at,
    disabled_at: row.user__disabled_at,
    locked_at: row.user__locked_at,
    credentials_changed_at: row.user__credentials_changed_at,
    email_verified_at: row.user__email_verified_at,
    passkey_offer_dismissed_at: row.user__passkey_offer_dismissed_at,
    last_sign_in_at: row.user__last_sign_in_at,
    delete_after: row.user__delete_after,
    password_reset_required_at: row.user__password_reset_required_at,
    phone_reversed: row.user__phone_reversed,
  };
  return { session, user };
}

export async function findSession(db: Executor, sessionId: string): Promise<SessionRow | undefined> {
  return (await sessionById(db, [sessionId]))[0];
}

/**
 * Spends one second-factor attempt of a pending session before the code is even evaluated, so
 * 200 parallel guesses still evaluate at most `maxAttempts` (FL-05). Returns the attempt number,
 * or undefined when the session is no longer pending, expired, or out of attempts.
 */
export async function spendMfaAttempt(
  db: Executor,
  input: { sessionId: string; jti: string; maxAttempts: number; now: number },
): Promise<number | undefined> {
  const row = await db
    .updateTable('sessions')
    .set((eb) => ({ mfa_attempts: eb('mfa_attempts', '+', 1) }))
    .where('id', '=', input.sessionId)
    .where('state', '=', 'pending')
    .where('mfa_jti', '=', input.jti)
    .where('mfa_attempts', '<', input.maxAttempts)
    .where('expires_at', '>', input.now)
    .returning('mfa_attempts')
    .executeTakeFirst();
  return row?.mfa_attempts;
}

/** Upgrades a pending session to an authenticated one; false if its mfa_token was already used. */
export async function activateSession(
  db: Executor,
  input: { sessionId: string; jti: string; amr: string[]; acr?: string; authTime: number; expiresAt: number; dpopJkt?: string | undefined },
): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({
      state: 'active',
      mfa_jti: null,
      mfa_attempts: 0,
      amr: JSON.stringify(input.amr),
      acr: input.acr ?? 'aal2',
      auth_time: input.authTime,
      expires_at: input.expiresAt,
      last_active_at: input.authTime,
      dpop_jkt: input.dpopJkt ?? null,
    })
    .where('id', '=', input.sessionId)
    .where('state', '=', 'pending')
    .where('mfa_jti', '=', input.jti)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Spends a step-up attempt of an active session (a proof offered with an access token). */
export async function spendStepUpAttempt(db: Executor, input: { sessionId: string; maxAttempts: number }): Promise<number | undefined> {
  const row = await db
    .updateTable('sessions')
    .set((eb) => ({ mfa_attempts: eb('mfa_attempts', '+', 1) }))
    .where('id', '=', input.sessionId)
    .where('state', '=', 'active')
    .where('mfa_attempts', '<', input.maxAttempts)
    .returning('mfa_attempts')
    .executeTakeFirst();
  return row?.mfa_attempts;
}

/** A fresh second factor on an active session: auth_time moves, attempts start over. */
export async function recordStepUp(db: Executor, input: { sessionId: string; amr: string[]; acr: string; authTime: number }): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ amr: JSON.stringify(input.amr), acr: input.acr, auth_time: input.authTime, last_active_at: input.authTime, mfa_attempts: 0 })
    .where('id', '=', input.sessionId)
    .where('state', '=', 'active')
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** A successful proof on an active session (a factor confirmed) starts its attempts over. */
export async function resetSessionAttempts(db: Executor, sessionId: string): Promise<void> {
  await db.updateTable('sessions').set({ mfa_attempts: 0 }).where('id', '=', sessionId).where('mfa_attempts', '>', 0).execute();
}

export async function touchSession(db: Executor, sessionId: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ last_active_at: now }).where('id', '=', sessionId).where('state', '=', 'active').execute();
}

/**
 * Cancels a login that is still waiting for its second factor. Only a pending session: a
 * concurrent request may have just completed it, and a completed session is not ours to end.
 */
export async function cancelPendingSession(db: Executor, sessionId: string, reason: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ state: 'revoked', revoked_at: now, revoke_reason: reason, mfa_jti: null })
    .where('id', '=', sessionId)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Where a page of the revoked-session feed starts: at `since`, or strictly after the row (`since`, `afterId`). */
export interface RevokedSessionsCursor {
  since: number;
  afterId?: string | undefined;
}

/**
 * One page of signed-in sessions by revocation, in the strict order (revoked_at, id): oldest
 * first, ties in one millisecond broken by id, so the next page starts strictly after the last
 * row and never re-reads it — however many sessions one millisecond revoked (RC-04). Pending
 * logins that never completed are left out: they never had an access token. Built apart from its
 * execution so a test can EXPLAIN the very query on both databases (index
 * `sessions_revoked_feed`, whose predicate is the `auth_time` condition here).
 */
export function revokedSessionsPageQuery(db: Executor, cursor: RevokedSessionsCursor, limit: number) {
  const signedIn = db.selectFrom('sessions').select(['id', 'revoked_at']).where('auth_time', 'is not', null);
  // A row value, not `revoked_at > s or (revoked_at = s and id > a)`: both databases turn it into
  // one index range, where the OR form made SQLite merge two scans and sort.
  const page =
    cursor.afterId === undefined
      ? signedIn.where('revoked_at', '>=', cursor.since)
      : signedIn.where(({ eb, refTuple, tuple }) => eb(refTuple('revoked_at', 'id'), '>', tuple(cursor.since, cursor.afterId as string)));
  return page.orderBy('revoked_at').orderBy('id').limit(limit);
}

export function listSessionsRevokedSince(db: Executor, cursor: RevokedSessionsCursor, limit: number): Promise<Array<{ id: string; revoked_at: number }>> {
  return revokedSessionsPageQuery(db, cursor, limit).execute() as Promise<Array<{ id: string; revoked_at: number }>>;
}
