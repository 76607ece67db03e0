// Operator actions behind the CLI (`twofold users …`). Resetting factors is the last-resort
// recovery for a person who lost every factor and every recovery code: it removes factors and
// codes and ends all sessions and every login in flight, so the next login must enroll a new
// factor (MG-03, RC-03).
import { normalizeUsername } from '../../core/identity/username.js';
import { hasPassword } from '../../core/password/no-password.js';
import { TwofoldError } from '../../errors.js';
import type { UserRow } from '../../store/database.js';
import { deleteFactorsOfUser, listFactorsOfUser } from '../../store/repositories/factors.js';
import { countUnusedRecoveryCodes, deleteRecoveryCodesOfUser } from '../../store/repositories/recovery-codes.js';
import { findUserById, findUserByUsername, listUsers } from '../../store/repositories/users.js';
import type { FlowContext } from '../shared/context.js';
import { recordCredentialsChange } from '../sessions/credentials-changed.js';
import { announceRevokedSessions } from '../sessions/revoke-sessions.js';
import { clearAccountThrottle, unlockAccount } from '../budgets/throttle.js';
import { forgetAllTrustedDevices } from '../factors/trusted-devices.js';
import { toFactorView, toUserView, type FactorView, type UserView } from '../shared/views.js';
import { runTransaction } from '../../store/transaction.js';

export interface UserDetails extends UserView {
  failed_attempts: number;
  disabled: boolean;
  locked: boolean;
  factors: FactorView[];
  recovery_codes_remaining: number;
  /** False for a passwordless account: its way back without a passkey is a password reset. */
  has_password: boolean;
}

/** What the admin API adds to an operator's event: the admin's user id and the reason they typed. */
export type OperatorAudit = Record<string, string>;

export async function findUserByIdOrUsername(ctx: FlowContext, idOrUsername: string): Promise<UserRow> {
  const normalized = normalizeUsername(idOrUsername);
  const user = idOrUsername.startsWith('usr_')
    ? await findUserById(ctx.db, idOrUsername)
    : normalized.ok
      ? await findUserByUsername(ctx.db, normalized.username)
      : undefined;
  if (user === undefined) throw new TwofoldError('not_found', `No user "${idOrUsername}".`);
  return user;
}

/** A page of users in id order; pass the last id as `after` for the next (keyset: every page costs the same). */
export async function listUserViews(ctx: FlowContext, page: { limit: number; after?: string | undefined }): Promise<UserView[]> {
  return (await listUsers(ctx.db, page)).map(toUserView);
}

export async function describeUser(ctx: FlowContext, idOrUsername: string): Promise<UserDetails> {
  const user = await findUserByIdOrUsername(ctx, idOrUsername);
  return {
    ...toUserView(user),
    failed_attempts: user.failed_attempts,
    disabled: user.disabled_at !== null,
    locked: user.locked_at !== null,
    factors: (await listFactorsOfUser(ctx.db, user.id)).map(toFactorView),
    recovery_codes_remaining: await countUnusedRecoveryCodes(ctx.db, user.id),
    has_password: hasPassword(user),
  };
}

/** Lifts a lock (after checking who is asking, outside Twofold): the failure count starts over. */
export async function unlockUserAccount(ctx: FlowContext, idOrUsername: string, operator: string, audit: OperatorAudit = {}): Promise<{ user: UserView; wasLocked: boolean }> {
  const user = await findUserByIdOrUsername(ctx, idOrUsername);
  const wasLocked = await unlockAccount(ctx, user.username, user.id);
  ctx.events.record({ type: 'admin.account_unlocked', userId: user.id, details: { operator, ...audit, was_locked: wasLocked } });
  return { user: toUserView(user), wasLocked };
}

export async function resetFactors(
  ctx: FlowContext,
  idOrUsername: string,
  operator: string,
  audit: OperatorAudit = {},
): Promise<{ user: UserView; factorsRemoved: number; recoveryCodesRemoved: number; sessionsRevoked: number }> {
  const user = await findUserByIdOrUsername(ctx, idOrUsername);
  const { ended, ...result } = await runTransaction(ctx.db, async (trx) => {
    // First: the user's row, and every session and login in flight ends (RC-03).
    const ended = await recordCredentialsChange(ctx, trx, { userId: user.id, reason: 'admin_factor_reset', signedIn: 'end' });
    const factorsRemoved = await deleteFactorsOfUser(trx, user.id);
    const recoveryCodesRemoved = await deleteRecoveryCodesOfUser(trx, user.id);
    await forgetAllTrustedDevices(ctx, trx, user.id, 'admin_factor_reset');
    return { ended, factorsRemoved, recoveryCodesRemoved };
  });
  await announceRevokedSessions(ctx, ended.signedIn);
  // Signed in or halfway through a login: every one of them ended.
  const sessionsRevoked = ended.signedIn.length + ended.pendingLogins;
  await clearAccountThrottle(ctx, user.username);
  ctx.events.record({ type: 'admin.factors_reset', userId: user.id, details: { operator, ...audit, ...result, sessionsRevoked } });
  return { user: toUserView(user), ...result, sessionsRevoked };
}
