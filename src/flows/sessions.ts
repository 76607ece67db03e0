// A person's signed-in sessions (SS-07): listed with where they came from, each revocable. Ending
// the current one is a logout; ending another needs a recent second factor, so a stolen token
// cannot sign the owner out everywhere.
import { TwofoldError } from '../errors.js';
import { findSession, listActiveSessionsOfUser } from '../store/repositories/sessions.js';
import { runTransaction } from '../store/transaction.js';
import type { AccessAuthentication } from './authenticate.js';
import type { FlowContext, RequestMeta } from './context.js';
import { announceRevokedSessions, revokeSessionsInDatabase } from './revoke-sessions.js';
import { requireRecentAuthentication } from './step-up.js';
import { toSessionView, type SessionView } from './views.js';

export interface SessionListItem extends SessionView {
  current: boolean;
}

export async function listOwnSessions(ctx: FlowContext, auth: AccessAuthentication): Promise<SessionListItem[]> {
  const sessions = await listActiveSessionsOfUser(ctx.db, auth.user.id);
  return sessions.map((session) => ({ ...toSessionView(session, ctx.config.sessions.idleTimeoutSeconds), current: session.id === auth.session.id }));
}

/** Ends every session of the user but this one (SS-06/SS-07): needs a recent second factor. */
export async function revokeOtherSessions(ctx: FlowContext, auth: AccessAuthentication, meta: RequestMeta = {}): Promise<number> {
  requireRecentAuthentication(ctx, auth);
  const ended = await endOtherSessions(ctx, auth.user.id, auth.session.id, 'revoked_by_user');
  ctx.events.record({ type: 'session.revoked', userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent, details: { others_ended: ended.length } });
  return ended.length;
}

/** Ends the user's sessions except `keep` (a password or factor change, SS-06); returns their ids. */
export async function endOtherSessions(ctx: FlowContext, userId: string, keep: string | undefined, reason: string): Promise<string[]> {
  const others = (await listActiveSessionsOfUser(ctx.db, userId)).map((session) => session.id).filter((id) => id !== keep);
  const ended = await runTransaction(ctx.db, (trx) => revokeSessionsInDatabase(trx, others, reason, ctx.now()));
  await announceRevokedSessions(ctx, ended);
  return ended;
}

export async function revokeOwnSession(ctx: FlowContext, auth: AccessAuthentication, sessionId: string, meta: RequestMeta = {}): Promise<void> {
  const session = await findSession(ctx.db, sessionId);
  if (session === undefined || session.user_id !== auth.user.id || session.state !== 'active') throw new TwofoldError('not_found', 'No active session with that id.');
  if (session.id !== auth.session.id) requireRecentAuthentication(ctx, auth);
  const revoked = await runTransaction(ctx.db, (trx) => revokeSessionsInDatabase(trx, [session.id], session.id === auth.session.id ? 'logout' : 'revoked_by_user', ctx.now()));
  await announceRevokedSessions(ctx, revoked);
  ctx.events.record({ type: 'session.revoked', userId: auth.user.id, sessionId: session.id, ip: meta.ip, userAgent: meta.userAgent, details: { by_session: auth.session.id } });
}
