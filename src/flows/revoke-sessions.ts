// Ending sessions: in the database (the caller's transaction, or its own), then — once that is
// committed — on the shared denylist with a TTL of the longest access-token lifetime, and
// announced to every instance. A Redis failure after the commit does not undo the revocation:
// it is logged, and the session row still refuses the session's tokens everywhere.
import { sha256Base64url } from '../core/crypto/digest.js';
import type { Executor, SessionState } from '../store/database.js';
import { listLiveSessionsOfUser, revokeSession } from '../store/repositories/sessions.js';
import { publishClusterEvent } from './cluster-events.js';
import type { FlowContext } from './context.js';

export async function revokeSessionsInDatabase(db: Executor, sessionIds: Iterable<string>, reason: string, now: number): Promise<string[]> {
  const revoked: string[] = [];
  for (const sessionId of sessionIds) if (await revokeSession(db, sessionId, reason, now)) revoked.push(sessionId);
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
  const all = await listLiveSessionsOfUser(db, input.userId);
  const kept = all.find((session) => session.id === input.keep)?.state;
  const live = all.filter((session) => session.id !== input.keep);
  const pending = live.filter((session) => session.state === 'pending').map((session) => session.id);
  const signedIn = input.signedIn === 'end' ? live.filter((session) => session.state === 'active').map((session) => session.id) : [];
  const pendingLogins = (await revokeSessionsInDatabase(db, pending, input.reason, input.now)).length;
  return { signedIn: await revokeSessionsInDatabase(db, signedIn, input.reason, input.now), pendingLogins, kept };
}

export function denylistKey(sessionId: string): string {
  return `denylist:${sha256Base64url(sessionId)}`;
}

/** After the commit: this instance's copy, the shared denylist, and the other instances. */
export async function announceRevokedSessions(ctx: FlowContext, sessionIds: string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  const now = ctx.now();
  const lifetimeMs = (ctx.config.tokens.accessTokenTtlSeconds + ctx.config.tokens.clockSkewSeconds) * 1000;
  ctx.revokedSessions.sweep(now);
  for (const sessionId of sessionIds) ctx.revokedSessions.add(sessionId, now + lifetimeMs);
  try {
    await Promise.all(sessionIds.map((sessionId) => ctx.kv.set(denylistKey(sessionId), String(now), lifetimeMs)));
    await publishClusterEvent(ctx.kv, { type: 'sessions.revoked', sessionIds, expiresAt: now + lifetimeMs });
  } catch (error) {
    ctx.diagnostics.warn({ err: error, sessions: sessionIds.length }, 'revocation committed but not shared through Redis; the database still refuses these sessions');
  }
}
