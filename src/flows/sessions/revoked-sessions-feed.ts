// The revoked-session feed for resource servers (twofold/verify polls it): every signed-in
// session revoked while one of its access tokens could still be alive, with the time until
// which its tokens must be refused. Session ids are random and authorize nothing, so the feed
// is public, like the JWKS.
//
// Pages follow the strict order (revoked_at, id). A full page ends with a cursor — `as_of` is the
// last row's time and `next_after` its id — and the next page starts strictly after that row, so
// any number of revocations in one millisecond (one "sign out everywhere" of an account with
// thousands of sessions) is read through, never re-read forever (RC-04). A poller from before the
// cursor ignores `next_after` and keeps working as it did.
import { listSessionsRevokedSince, type RevokedSessionsCursor } from '../../store/repositories/sessions.js';
import type { FlowContext } from '../shared/context.js';
import { invalidRequest } from '../shared/errors.js';

/** Bounds one answer; a full page carries the cursor of the next. */
export const revokedSessionsPageSize = 5_000;

export interface RevokedSessionsFeed {
  /** Complete answer: server time (ms), pass it back as `since`. Full page: the last row's time. */
  as_of: number;
  sessions: Array<{ sid: string; until: number }>;
  /** Null when the answer is complete; else the last row's id: ask again at once with since=as_of&after=next_after. */
  next_after: string | null;
}

/** `since` and `after` as the previous answer gave them (`as_of`, `next_after`); neither for the start. */
export async function listRevokedSessions(ctx: FlowContext, since?: number, after?: string): Promise<RevokedSessionsFeed> {
  if (after !== undefined && since === undefined) throw invalidRequest('after', '`after` continues from `since`: send both, as the previous answer gave them.');
  const now = ctx.now();
  const tokenLifetimeMs = (ctx.config.tokens.accessTokenTtlSeconds + ctx.config.tokens.clockSkewSeconds) * 1000;
  const horizon = now - tokenLifetimeMs;
  // Nothing revoked before the horizon can have a live token: start there; a cursor below it is moot.
  const cursor: RevokedSessionsCursor = since === undefined || since < horizon ? { since: horizon } : { since, afterId: after };
  const rows = await listSessionsRevokedSince(ctx.db, cursor, revokedSessionsPageSize);
  const last = rows.length === revokedSessionsPageSize ? rows.at(-1) : undefined;
  return {
    as_of: last?.revoked_at ?? now,
    sessions: rows.map((row) => ({ sid: row.id, until: row.revoked_at + tokenLifetimeMs })),
    next_after: last?.id ?? null,
  };
}
