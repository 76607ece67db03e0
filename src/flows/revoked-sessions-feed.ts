// The revoked-session feed for resource servers (twofold/verify polls it): every signed-in
// session revoked while one of its access tokens could still be alive, with the time until
// which its tokens must be refused. Session ids are random and authorize nothing, so the feed
// is public, like the JWKS.
import { listSessionsRevokedSince } from '../store/repositories/sessions.js';
import type { FlowContext } from './context.js';

/** Bounds one answer; a poller continues from `as_of`, which then stops at the last row. */
export const revokedSessionsPageSize = 5_000;

export interface RevokedSessionsFeed {
  /** Server time of this answer (ms); pass it back as `since`. */
  as_of: number;
  sessions: Array<{ sid: string; until: number }>;
}

export async function listRevokedSessions(ctx: FlowContext, since: number | undefined): Promise<RevokedSessionsFeed> {
  const now = ctx.now();
  const tokenLifetimeMs = (ctx.config.tokens.accessTokenTtlSeconds + ctx.config.tokens.clockSkewSeconds) * 1000;
  const horizon = now - tokenLifetimeMs;
  const rows = await listSessionsRevokedSince(ctx.db, Math.max(since ?? horizon, horizon), revokedSessionsPageSize);
  const full = rows.length === revokedSessionsPageSize;
  return {
    as_of: full ? (rows.at(-1)?.revoked_at ?? now) : now,
    sessions: rows.map((row) => ({ sid: row.id, until: row.revoked_at + tokenLifetimeMs })),
  };
}
