// "Force a password reset", as Auth0, Keycloak and Supabase admins expect it: the current password
// stops working at once (a sign-in with it gets the answer of a wrong password), every session and
// login in flight ends, remembered browsers are forgotten, and the owner is sent a reset code
// through the ordinary forgotten-password flow (to their verified e-mail or phone). Their next
// password — set with that code, or from a passkey session — lifts the requirement. The second
// factor stays: the reset never bypasses it (MG-01). The admin never sees or sets a password.
import { requirePasswordReset } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import { requestPasswordReset } from '../../flows/account/password-reset.js';
import { recordCredentialsChange } from '../../flows/sessions/credentials-changed.js';
import { announceRevokedSessions } from '../../flows/sessions/revoke-sessions.js';
import { forgetAllTrustedDevices } from '../../flows/factors/trusted-devices.js';
import type { FlowContext } from '../../flows/shared/context.js';
import type { AdminActor } from '../admin-actor.js';
import type { AdminUserDetails } from '../user-details.js';
import { currentDetails, prepareAdminWrite, recordAdminEvent } from './admin-write.js';

export async function forcePasswordReset(ctx: FlowContext, actor: AdminActor, userId: string, reason: string): Promise<AdminUserDetails> {
  const write = await prepareAdminWrite(ctx, actor, userId, reason);
  const ended = await runTransaction(ctx.db, async (trx) => {
    const ended = await recordCredentialsChange(ctx, trx, { userId: write.target.id, reason: 'admin_password_reset', signedIn: 'end' });
    await requirePasswordReset(trx, write.target.id, ctx.now());
    await forgetAllTrustedDevices(ctx, trx, write.target.id, 'admin_password_reset');
    return ended;
  });
  await announceRevokedSessions(ctx, ended.signedIn);
  // The code goes out like any forgotten-password request (its budgets, its destinations); a
  // refusal (budget spent, resets switched off) leaves the requirement in place: the event says so.
  let resetCodeRequested = true;
  try {
    await requestPasswordReset(ctx, { username: write.target.username });
  } catch (error) {
    resetCodeRequested = false;
    ctx.diagnostics.warn({ err: error, userId: write.target.id }, 'the reset code of a forced password reset was not sent');
  }
  recordAdminEvent(ctx, 'admin.password_reset_forced', write, { sessions_ended: ended.signedIn.length, logins_ended: ended.pendingLogins, reset_code_requested: resetCodeRequested });
  return currentDetails(ctx, write.target.id);
}
