// Timed-out sessions are retired in the background, not only when a token of theirs comes back:
// until then they would stay "signed in" on the account page, and every per-user operation would
// pay for them. A batch of a few hundred at a time, in its own short transaction, with a turn of
// the event loop between batches. A retired session whose access tokens may still be alive (an
// absolute deadline reached just after a refresh) is announced like a logout: the revoked-session
// feed carries it anyway (revoked_at is set), the denylist and the other instances hear of it now.
//
// Reading stays correct without the retirer: every query that treats a session as live also checks
// both deadlines by time (src/flows/sessions/authenticate.ts enforceSessionLimits; the session lists).
import { listTimedOutSessions, revokeSessions, type TimeoutKind } from '../../store/repositories/sessions.js';
import { runTransaction } from '../../store/transaction.js';
import { runInBatches } from '../shared/batches.js';
import type { FlowContext } from '../shared/context.js';
import { announceRevokedSessions, mayHaveLiveAccessToken } from './revoke-sessions.js';
import { liveAt } from './sessions.js';

const timeoutKinds: readonly TimeoutKind[] = ['absolute_timeout', 'idle_timeout', 'login_expired'];

/** Marks every session past a deadline as ended (revoke_reason says which); returns how many. */
export async function retireTimedOutSessions(ctx: FlowContext, options: { batchRows?: number; maxBatches?: number } = {}): Promise<number> {
  let retired = 0;
  for (const kind of timeoutKinds) {
    retired += await runInBatches(async (limit) => {
      const now = ctx.now();
      const ids = await listTimedOutSessions(ctx.db, kind, liveAt(ctx, now), limit);
      if (ids.length === 0) return 0;
      const ended = await runTransaction(ctx.db, (trx) => revokeSessions(trx, ids, kind, now));
      await announceRevokedSessions(ctx, ended.filter((session) => mayHaveLiveAccessToken(ctx, session, now)).map((session) => session.id));
      return ids.length;
    }, options);
  }
  return retired;
}
