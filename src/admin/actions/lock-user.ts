// Lock and unlock. A lock refuses every sign-in (the locked answer of LG-01) and ends the
// account's sessions and logins in flight, so it takes effect now, not at the next sign-in.
// Unlocking is the CLI's unlock (the failure count starts over).
import { holdUserRow, lockUser as lockUserRow } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import { unlockUserAccount } from '../../flows/account/admin.js';
import { announceRevokedSessions, endSessionsOfUser } from '../../flows/sessions/revoke-sessions.js';
import type { FlowContext } from '../../flows/shared/context.js';
import type { AdminActor } from '../admin-actor.js';
import type { AdminUserDetails } from '../user-details.js';
import { currentDetails, prepareAdminWrite, recordAdminEvent } from './admin-write.js';

export async function lockUser(ctx: FlowContext, actor: AdminActor, userId: string, reason: string): Promise<AdminUserDetails> {
  const write = await prepareAdminWrite(ctx, actor, userId, reason);
  const now = ctx.now();
  const { ended, wasLocked } = await runTransaction(ctx.db, async (trx) => {
    await holdUserRow(trx, write.target.id);
    const newlyLocked = await lockUserRow(trx, write.target.id, now);
    return { wasLocked: !newlyLocked, ended: await endSessionsOfUser(trx, { userId: write.target.id, signedIn: 'end', reason: 'admin_locked', now }) };
  });
  await announceRevokedSessions(ctx, ended.signedIn);
  recordAdminEvent(ctx, 'admin.account_locked', write, { was_locked: wasLocked, sessions_ended: ended.signedIn.length, logins_ended: ended.pendingLogins });
  return currentDetails(ctx, write.target.id);
}

export async function unlockUser(ctx: FlowContext, actor: AdminActor, userId: string, reason: string): Promise<AdminUserDetails> {
  const write = await prepareAdminWrite(ctx, actor, userId, reason);
  await unlockUserAccount(ctx, write.target.id, write.operator, write.audit);
  return currentDetails(ctx, write.target.id);
}
