// Going passwordless (DELETE /v1/password, PW-15): the password goes, and the account signs in
// with a passkey alone. Only with a recent second factor (step-up) and while canGoPasswordless
// holds — checked in the transaction that removes the password, under the lock that factor
// removals take, so a passkey removed at the same moment cannot slip between check and change.
// Like a password change it is a change of credentials: every other session and every login in
// flight (which may have started with the password that is going) ends, remembered browsers too.
import { hasPassword, noPasswordHash } from '../../core/password/no-password.js';
import { TwofoldError, invalidTokenError } from '../../errors.js';
import { lockForTransaction } from '../../store/locks.js';
import { findUserById, updatePasswordHash } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import { forgetAllTrustedDevices } from '../factors/trusted-devices.js';
import type { AccessAuthentication } from '../sessions/authenticate.js';
import { recordCredentialsChange } from '../sessions/credentials-changed.js';
import { announceRevokedSessions } from '../sessions/revoke-sessions.js';
import { requireRecentAuthentication } from '../sessions/step-up.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { canGoPasswordless, readPasswordlessStanding } from '../factors/can-go-passwordless.js';

export async function removeOwnPassword(ctx: FlowContext, auth: AccessAuthentication, meta: RequestMeta = {}): Promise<{ sessionsEnded: number }> {
  requireRecentAuthentication(ctx, auth);
  // Already without one: nothing to do, and nobody signed out for nothing (DELETE is idempotent).
  if (!hasPassword(auth.user)) return { sessionsEnded: 0 };
  const { ended, passkeys } = await runTransaction(ctx.db, async (trx) => {
    // The lock removeOwnFactor takes: a passkey removal and this one run one after the other.
    await lockForTransaction(trx, `factors:${auth.user.id}`);
    const ended = await recordCredentialsChange(ctx, trx, { userId: auth.user.id, reason: 'password_removed', keep: auth.session.id, signedIn: 'end' });
    // Ended meanwhile (a sign-out everywhere from another session): it may not change credentials.
    if (ended.kept !== 'active') throw invalidTokenError('The session of this token has ended.');
    const verdict = canGoPasswordless(await readPasswordlessStanding(ctx, trx, auth.user.id));
    // Refused: the rollback undoes the sessions ended above.
    if (!verdict.allowed) throw new TwofoldError('passwordless_not_allowed', verdict.detail, { extensions: { missing: verdict.missing, passkeys: verdict.passkeys } });
    const user = await findUserById(trx, auth.user.id);
    if (user !== undefined && hasPassword(user)) await updatePasswordHash(trx, auth.user.id, noPasswordHash, ctx.now());
    await forgetAllTrustedDevices(ctx, trx, auth.user.id, 'password_removed');
    return { ended, passkeys: verdict.passkeys };
  });
  await announceRevokedSessions(ctx, ended.signedIn);
  ctx.events.record({
    type: 'password.removed',
    userId: auth.user.id,
    sessionId: auth.session.id,
    ip: meta.ip,
    userAgent: meta.userAgent,
    details: { passkeys, sessions_ended: ended.signedIn.length, logins_ended: ended.pendingLogins },
  });
  return { sessionsEnded: ended.signedIn.length };
}
