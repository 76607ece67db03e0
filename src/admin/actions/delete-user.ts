// Deleting an account waits TWOFOLD_ADMIN_DELETE_GRACE_DAYS (30 by default): meanwhile the account
// is disabled (every sign-in, reset and token refused; its sessions end now) and an admin may
// cancel; after it, the upkeep deletes the row and everything that hangs on it.
import { TwofoldError } from '../../errors.js';
import { cancelUserDeletion as cancelDeletionRow, scheduleUserDeletion } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import { recordCredentialsChange } from '../../flows/sessions/credentials-changed.js';
import { announceRevokedSessions } from '../../flows/sessions/revoke-sessions.js';
import { forgetAllTrustedDevices } from '../../flows/factors/trusted-devices.js';
import type { FlowContext } from '../../flows/shared/context.js';
import { isoTime } from '../../flows/shared/views.js';
import type { AdminActor } from '../admin-actor.js';
import type { AdminUserDetails } from '../user-details.js';
import { currentDetails, prepareAdminWrite, recordAdminEvent } from './admin-write.js';

const dayMs = 86_400_000;

export async function deleteUser(ctx: FlowContext, actor: AdminActor, userId: string, reason: string): Promise<AdminUserDetails> {
  const write = await prepareAdminWrite(ctx, actor, userId, reason);
  // Asked twice: the first deletion's date stands (a repeat never postpones it, nor brings it closer).
  if (write.target.delete_after !== null) throw new TwofoldError('invalid_request', `This account is already waiting for deletion (on ${isoTime(write.target.delete_after)}).`);
  const now = ctx.now();
  const deleteAfter = now + ctx.config.admin.deleteGraceDays * dayMs;
  const ended = await runTransaction(ctx.db, async (trx) => {
    const ended = await recordCredentialsChange(ctx, trx, { userId: write.target.id, reason: 'admin_deleted', signedIn: 'end' });
    await scheduleUserDeletion(trx, write.target.id, now, deleteAfter);
    await forgetAllTrustedDevices(ctx, trx, write.target.id, 'admin_deleted');
    return ended;
  });
  await announceRevokedSessions(ctx, ended.signedIn);
  recordAdminEvent(ctx, 'admin.deletion_scheduled', write, { delete_after: isoTime(deleteAfter), sessions_ended: ended.signedIn.length, logins_ended: ended.pendingLogins });
  return currentDetails(ctx, write.target.id);
}

export async function cancelUserDeletion(ctx: FlowContext, actor: AdminActor, userId: string, reason: string): Promise<AdminUserDetails> {
  const write = await prepareAdminWrite(ctx, actor, userId, reason);
  if (!(await cancelDeletionRow(ctx.db, write.target.id, ctx.now()))) throw new TwofoldError('invalid_request', 'This account is not waiting for deletion.');
  recordAdminEvent(ctx, 'admin.deletion_cancelled', write);
  return currentDetails(ctx, write.target.id);
}
