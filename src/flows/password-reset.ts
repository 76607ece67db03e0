// Account recovery without bypassing 2FA (MG-01..MG-03): "forgot password" always answers the
// same, and sends — in the background, so timing tells nothing either — a single-use code, valid
// 15 minutes and bound to the account, to the account's e-mail address or verified phone through
// the configured provider. The reset sets a new password, ends every session and remembered
// browser and lifts a lock — and never signs in, never touches factors: the next login still
// needs the second factor. Logins started before the reset, with the old password, end too.
import { generateId } from '../core/crypto/random.js';
import { normalizeUsername } from '../core/identity/username.js';
import { normalizePassword } from '../core/password/normalize.js';
import { checkPasswordPolicy } from '../core/password/policy.js';
import { generateRecoveryCode, hashRecoveryCode, normalizeRecoveryCode } from '../core/recovery/codes.js';
import { sha256Base64url } from '../core/crypto/digest.js';
import { TwofoldError } from '../errors.js';
import type { UserRow } from '../store/database.js';
import { listFactorsOfUser } from '../store/repositories/factors.js';
import { consumePasswordReset, findPasswordResetByHash, replacePasswordReset, spendPasswordResetAttempt } from '../store/repositories/password-resets.js';
import { findUserByUsername, updatePasswordHash } from '../store/repositories/users.js';
import { runTransaction } from '../store/transaction.js';
import type { FlowContext, RequestMeta } from './context.js';
import { withHashCapacity } from './errors.js';
import { recordCredentialsChange } from './credentials-changed.js';
import { announceRevokedSessions } from './revoke-sessions.js';
import { countUserFailureInBackground, unlockAccount, withGuess } from './throttle.js';
import { forgetAllTrustedDevices } from './trusted-devices.js';

const maxAttemptsPerReset = 5;
const requestsPerHour = 3;

export const forgotPasswordAnswer = 'If that account exists and has an e-mail address or a verified phone, a reset code is on its way.';

/**
 * Where a reset code can go (TWOFOLD_PASSWORD_RESET): the account's address, else the phone of an
 * active SMS factor — only while SMS factors are enabled, as a disabled factor type is never used.
 */
async function resetDestination(ctx: FlowContext, user: UserRow): Promise<{ channel: 'email' | 'sms'; to: string } | undefined> {
  const channels = ctx.config.passwordResetChannels;
  if (channels.includes('email') && user.email !== null) return { channel: 'email', to: user.email };
  if (!channels.includes('sms') || !ctx.config.factors.has('sms')) return undefined;
  const sms = (await listFactorsOfUser(ctx.db, user.id, 'active')).find((factor) => factor.type === 'sms' && factor.destination !== null);
  return sms?.destination === undefined || sms.destination === null ? undefined : { channel: 'sms', to: sms.destination };
}

/** TWOFOLD_PASSWORD_RESET=off: neither asking for a code nor using one (a code sent earlier dies too). */
function requirePasswordResetEnabled(ctx: FlowContext): void {
  if (ctx.config.passwordResetChannels.length === 0) {
    throw new TwofoldError('forbidden', 'Password reset is not offered on this server; ask its administrator for help.');
  }
}

function codeHash(ctx: FlowContext, code: string): string | undefined {
  const normalized = normalizeRecoveryCode(code);
  return normalized === undefined ? undefined : hashRecoveryCode(`reset:${normalized}`, ctx.codePepper);
}

export async function requestPasswordReset(ctx: FlowContext, input: { username: string }, meta: RequestMeta = {}): Promise<{ message: string }> {
  requirePasswordResetEnabled(ctx);
  const check = normalizeUsername(input.username);
  const user = check.ok ? await findUserByUsername(ctx.db, check.username) : undefined;
  // The same answer in every case; the work happens after it.
  ctx.background.run('password reset code', () => sendResetCode(ctx, user, meta));
  return { message: forgotPasswordAnswer };
}

async function sendResetCode(ctx: FlowContext, user: UserRow | undefined, meta: RequestMeta): Promise<void> {
  if (user === undefined || user.disabled_at !== null) return;
  const destination = await resetDestination(ctx, user);
  const recent = await ctx.kv.increment(`password-reset:requests:${sha256Base64url(user.id)}`, 60 * 60 * 1000);
  ctx.events.record({ type: 'password.reset_requested', userId: user.id, ip: meta.ip, userAgent: meta.userAgent, details: { delivered: destination !== undefined && recent <= requestsPerHour } });
  if (destination === undefined || recent > requestsPerHour) return;
  const code = generateRecoveryCode();
  const now = ctx.now();
  const expiresAt = now + ctx.config.passwordResetTtlSeconds * 1000;
  await replacePasswordReset(ctx.db, { id: generateId('pwr'), user_id: user.id, code_hash: codeHash(ctx, code)!, created_at: now, expires_at: expiresAt, used_at: null });
  const minutes = Math.round(ctx.config.passwordResetTtlSeconds / 60);
  await ctx.senders[destination.channel].send({
    channel: destination.channel,
    to: destination.to,
    subject: `Reset your ${ctx.config.serviceName} password`,
    text: `Someone asked to reset the ${ctx.config.serviceName} password of ${user.username}. If it was you, use this code within ${minutes} minutes: ${code}\nResetting the password does not sign you in: you will still need your second factor. If it was not you, ignore this message.`,
    purpose: 'password_reset',
    expiresAt,
  });
}

function invalidResetCode(): TwofoldError {
  return new TwofoldError('invalid_code', 'The reset code is wrong, expired or already used; ask for a new one.');
}

export async function resetPassword(ctx: FlowContext, input: { username: string; code: string; newPassword: string }, meta: RequestMeta = {}): Promise<void> {
  requirePasswordResetEnabled(ctx);
  const check = normalizeUsername(input.username);
  const account = check.ok ? check.username : input.username.normalize('NFKC').toLowerCase();
  await withGuess(ctx, account, meta, async (guess) => {
    const user = check.ok ? await findUserByUsername(ctx.db, check.username) : undefined;
    const now = ctx.now();
    const hash = codeHash(ctx, input.code);
    const reset = hash === undefined ? undefined : await findPasswordResetByHash(ctx.db, hash);
    const fail = async (): Promise<never> => {
      if (user !== undefined) {
        // Off the answer's path, so a real account answers as fast as a name that does not exist.
        countUserFailureInBackground(ctx, user.id);
        ctx.background.run('spend a reset attempt', () => spendPasswordResetAttempt(ctx.db, user.id, maxAttemptsPerReset, now).then(() => undefined));
      }
      await guess.wrong({ userId: user?.id });
      ctx.events.record({ type: 'password.reset_failed', userId: user?.id, ip: meta.ip, userAgent: meta.userAgent });
      throw invalidResetCode();
    };
    // Bound to the account: another account's code is as good as none (MG-02). A code sent before
    // the account was disabled is refused like any other: the forgot step would not send one now.
    if (user === undefined || user.disabled_at !== null || reset === undefined || reset.user_id !== user.id || reset.used_at !== null || reset.expires_at <= now) return fail();
    // The right code still dies with its reset once the wrong guesses used up the reset's attempts.
    if ((await spendPasswordResetAttempt(ctx.db, user.id, maxAttemptsPerReset, now)) === undefined) return fail();
    const password = normalizePassword(input.newPassword);
    const problems = checkPasswordPolicy(password, { username: user.username, email: user.email ?? undefined, serviceName: ctx.config.serviceName, minLength: ctx.config.password.minLength, maxLength: ctx.config.password.maxLength });
    if (problems.length > 0) throw new TwofoldError('weak_password', problems.map((problem) => problem.message).join(' '), { extensions: { reasons: problems } });
    const passwordHash = await withHashCapacity(ctx.passwordHasher.hash(password));
    const ended = await runTransaction(ctx.db, async (trx) => {
      // Every session ends, signed in or still at the second factor (RC-03), with the password.
      const ended = await recordCredentialsChange(ctx, trx, { userId: user.id, reason: 'password_reset', signedIn: 'end', keepPasswordResetId: reset.id });
      if (!(await consumePasswordReset(trx, reset.id, now))) throw invalidResetCode();
      await updatePasswordHash(trx, user.id, passwordHash, now);
      await forgetAllTrustedDevices(ctx, trx, user.id, 'password_reset');
      return ended;
    });
    await announceRevokedSessions(ctx, ended.signedIn);
    await guess.completed();
    await unlockAccount(ctx, account, user.id);
    ctx.events.record({ type: 'password.reset', userId: user.id, ip: meta.ip, userAgent: meta.userAgent, details: { sessions_ended: ended.signedIn.length, logins_ended: ended.pendingLogins } });
  });
}
