// Changing the password (PW-07, SS-06, SS-09): the current password is required and a wrong one
// counts toward the account's throttle like any failed attempt; the session's second factor must
// be recent; the new password meets the same policy as at registration. Every other session of
// the user ends, so whoever knew the old password is signed out.
import { normalizePassword } from '../core/password/normalize.js';
import { checkPasswordPolicy } from '../core/password/policy.js';
import { TwofoldError } from '../errors.js';
import { incrementFailedAttempts, updatePasswordHash } from '../store/repositories/users.js';
import type { AccessAuthentication } from './authenticate.js';
import type { FlowContext, RequestMeta } from './context.js';
import { withHashCapacity } from './errors.js';
import { endOtherSessions } from './sessions.js';
import { forgetAllTrustedDevices } from './trusted-devices.js';
import { requireRecentAuthentication } from './step-up.js';
import { withGuess } from './throttle.js';

export async function changePassword(
  ctx: FlowContext,
  auth: AccessAuthentication,
  input: { currentPassword: string; newPassword: string },
  meta: RequestMeta = {},
): Promise<{ sessionsEnded: number }> {
  requireRecentAuthentication(ctx, auth);
  const event = { userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent };
  await withGuess(ctx, auth.user.username, { ...meta, userId: auth.user.id }, async (guess) => {
    if (await withHashCapacity(ctx.passwordHasher.verify(auth.user.password_hash, normalizePassword(input.currentPassword)))) return;
    await incrementFailedAttempts(ctx.db, auth.user.id);
    await guess.wrong();
    ctx.events.record({ type: 'password.change_failed', ...event, details: { reason: 'wrong_current_password' } });
    throw new TwofoldError('invalid_credentials', 'The current password is incorrect.', { extensions: { errors: [{ pointer: '#/current_password', detail: 'The current password is incorrect.' }] } });
  });
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
  await updatePasswordHash(ctx.db, auth.user.id, passwordHash, ctx.now());
  const ended = await endOtherSessions(ctx, auth.user.id, auth.session.id, 'password_changed');
  await forgetAllTrustedDevices(ctx, ctx.db, auth.user.id, 'password_changed');
  ctx.events.record({ type: 'password.changed', ...event, details: { sessions_ended: ended.length } });
  return { sessionsEnded: ended.length };
}
