// Ending sessions: in the database (the caller's transaction, or its own), then — once that is
// committed — on the shared denylist with a TTL of the longest access-token lifetime, and
// announced to every instance. A Redis failure after the commit does not undo the revocation:
// it is logged, and the session row still refuses the session's tokens everywhere.
import { sha256Base64url } from '../core/crypto/digest.js';
import type { Executor } from '../store/database.js';
import { revokeSession } from '../store/repositories/sessions.js';
import { publishClusterEvent } from './cluster-events.js';
import type { FlowContext } from './context.js';

export async function revokeSessionsInDatabase(db: Executor, sessionIds: Iterable<string>, reason: string, now: number): Promise<string[]> {
  const revoked: string[] = [];
  for (const sessionId of sessionIds) if (await revokeSession(db, sessionId, reason, now)) revoked.push(sessionId);
  return revoked;
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
