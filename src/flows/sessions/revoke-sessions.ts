// Ending sessions: in the database (the caller's transaction, or its own), then — once that is
// committed — on the shared denylist with a TTL of the longest access-token lifetime, and
// announced to every instance. A Redis failure after the commit does not undo the revocation:
// it is logged, and the session row still refuses the session's tokens everywhere.
//
// However many sessions a user has, the work goes in batches of a few hundred (two statements a
// batch) with a turn of the event loop between them, so ending 10,000 sessions never holds other
// requests for the whole of it.
import { sha256Base64url } from '../../core/crypto/digest.js';
import type { Executor, SessionState } from '../../store/database.js';
import { findSession, revokeSessions, sessionsOfUserInStateQuery, type EndedSession } from '../../store/repositories/sessions.js';
import { chunksOf, defaultBatchRows, yieldToEventLoop } from '../shared/batches.js';
import { publishClusterEvent } from '../shared/cluster-events.js';
import type { FlowContext } from '../shared/context.js';

export async function revokeSessionsInDatabase(db: Executor, sessionIds: Iterable<string>, reason: string, now: number): Promise<string[]> {
  const revoked: string[] = [];
  for (const chunk of chunksOf([...sessionIds])) {
    if (revoked.length > 0) await yieldToEventLoop();
    revoked.push(...(await revokeSessions(db, chunk, reason, now)).map((session) => session.id));
  }
  return revoked;
}

export interface EndedSessions {
  /** Signed-in sessions that ended: announce them once committed (their access tokens live on). */
  signedIn: string[];
  /** Logins that were waiting for their second factor: their mfa_tokens are dead. */
  pendingLogins: number;
  /** The state of `keep`, the session making the change; undefined when it has ended meanwhile. */
  kept: SessionState | undefined;
}

/** Ends every session of the user in `state` but `exceptId`, a batch at a time. */
async function endSessionsInState(db: Executor, input: { userId: string; state: 'pending' | 'active'; exceptId?: string | undefined; reason: string; now: number }): Promise<EndedSession[]> {
  const ended: EndedSession[] = [];
  for (;;) {
    const batch = await sessionsOfUserInStateQuery(db, input.userId, input.state, { exceptId: input.exceptId, limit: defaultBatchRows }).execute();
    ended.push(...(await revokeSessions(db, batch.map((session) => session.id), input.reason, input.now)));
    if (batch.length < defaultBatchRows) return ended;
    await yieldToEventLoop();
  }
}

/**
 * In the caller's transaction: ends every login of the user still waiting for its second factor
 * and, unless `signedIn` is 'keep', every signed-in session — all but `keep`, the session making
 * the change. Run it after the user's row is held (holdUserRow / stampCredentialsChange): a login
 * completing at the same moment has then either finished — and is listed here as signed in — or
 * waits for this transaction and finds itself ended.
 */
export async function endSessionsOfUser(
  db: Executor,
  input: { userId: string; keep?: string | undefined; signedIn: 'end' | 'keep'; reason: string; now: number },
): Promise<EndedSessions> {
  const kept = input.keep === undefined ? undefined : await findSession(db, input.keep);
  const common = { userId: input.userId, exceptId: input.keep, reason: input.reason, now: input.now };
  const pendingLogins = (await endSessionsInState(db, { ...common, state: 'pending' })).length;
  const signedIn = input.signedIn === 'end' ? (await endSessionsInState(db, { ...common, state: 'active' })).map((session) => session.id) : [];
  return { signedIn, pendingLogins, kept: kept === undefined || kept.user_id !== input.userId || kept.state === 'revoked' ? undefined : kept.state };
}

export function denylistKey(sessionId: string): string {
  return `denylist:${sha256Base64url(sessionId)}`;
}

/** How long an access token of a session may outlive the session's last token issue (ms). */
export function accessTokenLifetimeMs(ctx: FlowContext): number {
  return (ctx.config.tokens.accessTokenTtlSeconds + ctx.config.tokens.clockSkewSeconds) * 1000;
}

/**
 * Whether an ended session may still have a live access token: every token is issued at a sign-in,
 * refresh or step-up, each of which sets last_active_at, so none outlives last_active_at plus a
 * token's lifetime. A login that never completed (no auth_time) never had one.
 */
export function mayHaveLiveAccessToken(ctx: FlowContext, session: Pick<EndedSession, 'auth_time' | 'last_active_at'>, now: number): boolean {
  return session.auth_time !== null && session.last_active_at + accessTokenLifetimeMs(ctx) > now;
}

/**
 * After the commit: this instance's copy, the shared denylist, and the other instances — a batch at
 * a time; then the session-end hooks (the OpenID Provider's grants of these sessions).
 */
export async function announceRevokedSessions(ctx: FlowContext, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  const now = ctx.now();
  const lifetimeMs = accessTokenLifetimeMs(ctx);
  ctx.revokedSessions.sweep(now);
  for (const sessionId of sessionIds) ctx.revokedSessions.add(sessionId, now + lifetimeMs);
  try {
    for (const [index, chunk] of chunksOf(sessionIds).entries()) {
      if (index > 0) await yieldToEventLoop();
      await Promise.all(chunk.map((sessionId) => ctx.kv.set(denylistKey(sessionId), String(now), lifetimeMs)));
      await publishClusterEvent(ctx.kv, { type: 'sessions.revoked', sessionIds: chunk, expiresAt: now + lifetimeMs });
    }
  } catch (error) {
    ctx.diagnostics.warn({ err: error, sessions: sessionIds.length }, 'revocation committed but not shared through Redis; the database still refuses these sessions');
  }
  await ctx.sessionEndHooks.run(sessionIds);
}
