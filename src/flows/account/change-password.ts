// Changing the password (PW-07, SS-06, SS-09): the current password is required and a wrong one
// counts toward the account's throttle like any failed attempt; the session's second factor must
// be recent; the new password meets the same policy as at registration. Every other session of
// the user ends — signed in or still at the second factor (RC-03) — in the transaction that sets
// the password, so whoever knew the old password is signed out and cannot finish a login.
// An account without a password (PW-18) sets one here with no current password: the recent second
// factor is what proves the person, and the change is recorded as `password.set`.
import { normalizePassword } from '../../core/password/normalize.js';
import { hasPassword } from '../../core/password/no-password.js';
import { checkPasswordPolicy } from '../../core/password/policy.js';
import { TwofoldError, invalidTokenError } from '../../errors.js';
import { clearPasswordResetRequirement, incrementFailedAttempts, updatePasswordHash } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import type { AccessAuthentication } from '../sessions/authenticate.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { invalidRequest, withHashCapacity } from '../shared/errors.js';
import { recordCredentialsChange } from '../sessions/credentials-changed.js';
import { announceRevokedSessions } from '../sessions/revoke-sessions.js';
import { forgetAllTrustedDevices } from '../factors/trusted-devices.js';
import { requireRecentAuthentication } from '../sessions/step-up.js';
import { withGuess } from '../budgets/throttle.js';

export async function changePassword(
  ctx: FlowContext,
  auth: AccessAuthentication,
  input: { currentPassword?: string | undefined; newPassword: string },
  meta: RequestMeta = {},
): Promise<{ sessionsEnded: number }> {
  requireRecentAuthentication(ctx, auth);
  const event = { userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent };
  const settingOne = !hasPassword(auth.user);
  if (!settingOne) await requireCurrentPassword(ctx, auth, input.currentPassword, event, meta);
  const password = normalizePassword(input.newPassword);
  const problems = checkPasswordPolicy(password, {
    username: auth.user.username,
    email: auth.user.email ?? undefined,
    serviceName: ctx.config.serviceName,
    minLength: ctx.config.password.minLength,
    maxLength: ctx.config.password.maxLength,
  });
  if (problems.length > 0) {
    throw new TwofoldError('weak_password', problems.map((problem) => problem.message).join(' '), { extensions: { reasons: problems } });
  }
  const passwordHash = await withHashCapacity(ctx.passwordHasher.hash(password));
  const ended = await runTransaction(ctx.db, async (trx) => {
    const ended = await recordCredentialsChange(ctx, trx, { userId: auth.user.id, reason: 'password_changed', keep: auth.session.id, signedIn: 'end' });
    // Ended meanwhile (a sign-out everywhere from another session): it may not set the password.
    if (ended.kept !== 'active') throw invalidTokenError('The session of this token has ended.');
    await updatePasswordHash(trx, auth.user.id, passwordHash, ctx.now());
    // Signed in (a passkey) after an admin forced a reset: a new password meets it too.
    await clearPasswordResetRequirement(trx, auth.user.id);
    await forgetAllTrustedDevices(ctx, trx, auth.user.id, 'password_changed');
    return ended;
  });
  await announceRevokedSessions(ctx, ended.signedIn);
  ctx.events.record({ type: settingOne ? 'password.set' : 'password.changed', ...event, details: { sessions_ended: ended.signedIn.length, logins_ended: ended.pendingLogins } });
  return { sessionsEnded: ended.signedIn.length };
}

/** The current password, a guess of the account like any other (PW-07). */
async function requireCurrentPassword(ctx: FlowContext, auth: AccessAuthentication, currentPassword: string | undefined, event: { userId: string; sessionId: string; ip: string | undefined; userAgent: string | undefined }, meta: RequestMeta): Promise<void> {
  if (currentPassword === undefined) throw invalidRequest('current_password', 'Send current_password: the password this account has now.');
  await withGuess(ctx, auth.user.username, { ...meta, userId: auth.user.id }, async (guess) => {
    if (await withHashCapacity(ctx.passwordHasher.verify(auth.user.password_hash, normalizePassword(currentPassword)))) return;
    await incrementFailedAttempts(ctx.db, auth.user.id);
    await guess.wrong();
    ctx.events.record({ type: 'password.change_failed', ...event, details: { reason: 'wrong_current_password' } });
    throw new TwofoldError('invalid_credentials', 'The current password is incorrect.', { extensions: { errors: [{ pointer: '#/current_password', detail: 'The current password is incorrect.' }] } });
  });
}
