// Ends every session of the account — signed in (their refresh tokens die with them, the
// session-end hooks end OpenID Provider grants and forward-auth cookies) and halfway through a
// login. The account itself is untouched: its owner may sign in again.
import { holdUserRow } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import { announceRevokedSessions, endSessionsOfUser } from '../../flows/sessions/revoke-sessions.js';
import type { FlowContext } from '../../flows/shared/context.js';
import type { AdminActor } from '../admin-actor.js';
import type { AdminUserDetails } from '../user-details.js';
import { currentDetails, prepareAdminWrite, recordAdminEvent } from './admin-write.js';

export async function endUserSessions(ctx: FlowContext, actor: AdminActor, userId: string, reason: string): Promise<AdminUserDetails> {
  const write = await prepareAdminWrite(ctx, actor, userId, reason);
  const ended = await runTransaction(ctx.db, async (trx) => {
    await holdUserRow(trx, write.target.id);
    return endSessionsOfUser(trx, { userId: write.target.id, signedIn: 'end', reason: 'admin_ended', now: ctx.now() });
  });
  await announceRevokedSessions(ctx, ended.signedIn);
  recordAdminEvent(ctx, 'admin.sessions_ended', write, { sessions_ended: ended.signedIn.length, logins_ended: ended.pendingLogins });
  return currentDetails(ctx, write.target.id);
}
