// A person's signed-in sessions (SS-07): listed with where they came from, each revocable. Ending
// the current one is a logout; ending another needs a recent second factor, so a stolen token
// cannot sign the owner out everywhere.
import { TwofoldError } from '../../errors.js';
import type { SessionRow } from '../../store/database.js';
import { findSession, listLiveSessionsOfUserPage, type LiveAt, type SessionsPageCursor } from '../../store/repositories/sessions.js';
import { holdUserRow } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import type { AccessAuthentication } from './authenticate.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { announceRevokedSessions, endSessionsOfUser, revokeSessionsInDatabase } from './revoke-sessions.js';
import { requireRecentAuthentication } from './step-up.js';
import { toSessionView, type SessionView } from '../shared/views.js';

export interface SessionListItem extends SessionView {
  current: boolean;
}

/** Sessions a page of GET /v1/sessions holds unless asked for fewer. */
export const defaultSessionsPageSize = 50;

/** A session is live at `now` while it is signed in and inside its idle and absolute deadlines. */
export function liveAt(ctx: FlowContext, now = ctx.now()): LiveAt {
  return { now, idleMs: ctx.config.sessions.idleTimeoutSeconds * 1000 };
}

export function isSessionLive(session: Pick<SessionRow, 'state' | 'expires_at' | 'last_active_at'>, live: LiveAt): boolean {
  return session.state === 'active' && session.expires_at > live.now && session.last_active_at > live.now - live.idleMs;
}

/** The cursor that continues after a listed session: "<created_at ms>.<id>", opaque to clients. */
export function sessionsPageCursorOf(session: { id: string; created_at: string }): string {
  return `${Date.parse(session.created_at)}.${session.id}`;
}

const cursorShape = /^([0-9]{1,15})\.(ses_[A-Za-z0-9_-]{1,64})$/;

export function parseSessionsPageCursor(cursor: string | undefined): SessionsPageCursor | undefined {
  if (cursor === undefined) return undefined;
  const match = cursorShape.exec(cursor);
  if (match === null) throw new TwofoldError('invalid_request', '`before` is not a cursor this list gave out.');
  return { createdAt: Number(match[1]), id: match[2] ?? '' };
}

/**
 * One page of the person's signed-in sessions, newest sign-in first; a session past its idle or
 * absolute deadline is not listed even before the retirer has marked it ended.
 */
export async function listOwnSessions(ctx: FlowContext, auth: AccessAuthentication, page: { limit?: number | undefined; before?: string | undefined } = {}): Promise<SessionListItem[]> {
  const sessions = await listLiveSessionsOfUserPage(ctx.db, auth.user.id, liveAt(ctx), { limit: page.limit ?? defaultSessionsPageSize, before: parseSessionsPageCursor(page.before) });
  return sessions.map((session) => ({ ...toSessionView(session, ctx.config.sessions.idleTimeoutSeconds), current: session.id === auth.session.id }));
}

/**
 * Ends every session of the user but this one (SS-06/SS-07), signed in or still at the second
 * factor (RC-03): needs a recent second factor. The password is unchanged, so a login whose
 * password step runs while this commits is no different from one started a moment later; every
 * login already waiting for its second factor ends.
 */
export async function revokeOtherSessions(ctx: FlowContext, auth: AccessAuthentication, meta: RequestMeta = {}): Promise<number> {
  requireRecentAuthentication(ctx, auth);
  const ended = await runTransaction(ctx.db, async (trx) => {
    // The user's row first: a login completing now has finished (and is ended here) or waits and finds itself ended.
    await holdUserRow(trx, auth.user.id);
    return endSessionsOfUser(trx, { userId: auth.user.id, keep: auth.session.id, signedIn: 'end', reason: 'revoked_by_user', now: ctx.now() });
  });
  await announceRevokedSessions(ctx, ended.signedIn);
  const details = { others_ended: ended.signedIn.length, logins_ended: ended.pendingLogins };
  ctx.events.record({ type: 'session.revoked', userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent, details });
  return ended.signedIn.length;
}

export async function revokeOwnSession(ctx: FlowContext, auth: AccessAuthentication, sessionId: string, meta: RequestMeta = {}): Promise<void> {
  const session = await findSession(ctx.db, sessionId);
  if (session === undefined || session.user_id !== auth.user.id || !isSessionLive(session, liveAt(ctx))) throw new TwofoldError('not_found', 'No active session with that id.');
  if (session.id !== auth.session.id) requireRecentAuthentication(ctx, auth);
  const revoked = await runTransaction(ctx.db, (trx) => revokeSessionsInDatabase(trx, [session.id], session.id === auth.session.id ? 'logout' : 'revoked_by_user', ctx.now()));
  await announceRevokedSessions(ctx, revoked);
  ctx.events.record({ type: 'session.revoked', userId: auth.user.id, sessionId: session.id, ip: meta.ip, userAgent: meta.userAgent, details: { by_session: auth.session.id } });
}
