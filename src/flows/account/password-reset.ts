// Account recovery without bypassing 2FA (MG-01..MG-03): "forgot password" always answers the
// same, and sends a single-use code, valid 15 minutes and bound to the account, to the account's
// verified e-mail address or verified phone (an active SMS factor) through the configured provider.
// The reset sets a new password, ends every session and remembered browser and lifts a lock — and
// never signs in, never touches factors: the next login still needs the second factor. Logins
// started before the reset, with the old password, end too. A passwordless account gets a
// password back this way (PW-18) — and then signs in with it and a second factor, as any other.
//
// A forgotten password tells nothing (LG-01..03), not even to a stopwatch on the next request:
// - Before the answer, only the budgets of the client network and of the username asked about are
//   taken (shared store, atomic; the same keys whether an account has the name or not) — nothing
//   is read or written in the database.
// - After the answer, one background task does the same work for every name: it reads the account
//   and its factors (of nobody, for a name nobody has), writes one reset row keyed by the name (an
//   upsert; for a name nobody has, its code is never sent and the row resets nothing), and records
//   one event, coalesced per name and client network. The same statements, the same batching.
// - Only the message itself is a real account's alone: it leaves at a random moment within the
//   next quarter second, so the provider's work (a socket, TLS, the outbox) does not land on the
//   requester's next request; and each name can be asked about 3 times an hour.
import { randomInt } from 'node:crypto';
import { generateId } from '../../core/crypto/random.js';
import { normalizeUsername } from '../../core/identity/username.js';
import { normalizePassword } from '../../core/password/normalize.js';
import { hasPassword } from '../../core/password/no-password.js';
import { checkPasswordPolicy } from '../../core/password/policy.js';
import { generateRecoveryCode, hashRecoveryCode, normalizeRecoveryCode } from '../../core/recovery/codes.js';
import { hmacSha256Base64url, sha256Base64url } from '../../core/crypto/digest.js';
import { TwofoldError } from '../../errors.js';
import type { UserRow } from '../../store/database.js';
import { listFactorsOfUser } from '../../store/repositories/factors.js';
import { consumePasswordReset, findPasswordResetByHash, spendPasswordResetAttempt, upsertPasswordReset } from '../../store/repositories/password-resets.js';
import { clearPasswordResetRequirement, findUserByUsername, updatePasswordHash } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import { clientNetworkId } from '../shared/client-network.js';
import { recordCoalescedEvent } from '../audit/coalesced-events.js';
import { requireRecoveryCode } from '../budgets/code-input.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { withHashCapacity } from '../shared/errors.js';
import { takeRequestBudgets } from '../budgets/request-budgets.js';
import { recordCredentialsChange } from '../sessions/credentials-changed.js';
import { resetDestinationOf, type ResetDestination } from '../factors/reset-destination.js';
import { announceRevokedSessions } from '../sessions/revoke-sessions.js';
import { trySendBudgets } from '../budgets/send-budgets.js';
import { countUserFailureInBackground, unlockAccount, withGuess } from '../budgets/throttle.js';
import { forgetAllTrustedDevices } from '../factors/trusted-devices.js';

const maxAttemptsPerReset = 5;
const hourMs = 60 * 60 * 1000;
const destinationWindowMs = 15 * 60 * 1000;
/** A reset code leaves within this many milliseconds after the work every request does, at random. */
const deliveryJitterMs = 250;

export const forgotPasswordAnswer = 'If that account exists and has a verified e-mail address or phone, a reset code is on its way.';


/** The name as the account throttle counts it: normalized when valid, else case-folded as typed. */
function accountNameOf(username: string): string {
  const check = normalizeUsername(username);
  return check.ok ? check.username : username.normalize('NFKC').toLowerCase();
}

/** Where the account's reset code goes (reset-destination.ts). The factors are read for every name (of nobody, for a name nobody has): the same query. */
async function resetDestination(ctx: FlowContext, user: UserRow | undefined): Promise<ResetDestination | undefined> {
  const factors = await listFactorsOfUser(ctx.db, user?.id ?? '', 'active');
  return user === undefined ? undefined : resetDestinationOf(ctx, user, factors);
}

/** TWOFOLD_PASSWORD_RESET=off: neither asking for a code nor using one (a code sent earlier dies too). */
function requirePasswordResetEnabled(ctx: FlowContext): void {
  if (ctx.config.passwordResetChannels.length === 0) {
    throw new TwofoldError('forbidden', 'Password reset is not offered on this server; ask its administrator for help.');
  }
}

/** `normalized`: a code read by normalizeRecoveryCode (generated ones are, typed ones by requireRecoveryCode). */
function codeHash(ctx: FlowContext, normalized: string): string {
  return hashRecoveryCode(`reset:${normalized}`, ctx.codePepper);
}

export async function requestPasswordReset(ctx: FlowContext, input: { username: string }, meta: RequestMeta = {}): Promise<{ message: string }> {
  requirePasswordResetEnabled(ctx);
  const account = accountNameOf(input.username);
  const network = clientNetworkId(ctx, meta);
  const { passwordResetsPerClientPerHour, passwordResetsPerAccountPerHour } = ctx.config.budgets;
  // Before any write, and the same for every name: whether an account has it changes nothing here.
  await takeRequestBudgets(
    ctx,
    'password_forgot',
    [
      ...(network === undefined
        ? []
        : [{ scope: 'client' as const, key: `forgot:client:${network}`, limit: passwordResetsPerClientPerHour, windowMs: hourMs, detail: 'Too many password resets were asked for from this network; try again later.' }]),
      { scope: 'account', key: `forgot:account:${sha256Base64url(account)}`, limit: passwordResetsPerAccountPerHour, windowMs: hourMs, detail: 'Too many password resets were asked for this username; try again later.' },
    ],
    meta,
  );
  ctx.background.run('password reset', () => prepareReset(ctx, account, meta));
  return { message: forgotPasswordAnswer };
}

/** The work of every request, whether an account has the name or not (see the file comment). */
async function prepareReset(ctx: FlowContext, account: string, meta: RequestMeta): Promise<void> {
  const found = await findUserByUsername(ctx.db, account);
  const user = found !== undefined && found.disabled_at === null ? found : undefined;
  const destination = await resetDestination(ctx, user);
  const code = generateRecoveryCode();
  const now = ctx.now();
  const expiresAt = now + ctx.config.passwordResetTtlSeconds * 1000;
  // A name, not a user: the row of a name nobody has is written alike and can never reset anything.
  const accountHash = hmacSha256Base64url(ctx.codePepper, `reset-account:${account}`);
  await upsertPasswordReset(ctx.db, { id: generateId('pwr'), account_hash: accountHash, user_id: user?.id ?? null, code_hash: codeHash(ctx, normalizeRecoveryCode(code)!), attempts: 0, created_at: now, expires_at: expiresAt, used_at: null });
  await recordCoalescedEvent(
    ctx,
    { type: 'password.reset_requested', userId: user?.id, ip: meta.ip, userAgent: meta.userAgent, details: { sent_to: destination?.channel ?? 'none' } },
    { key: `${accountHash}|${clientNetworkId(ctx, meta) ?? ''}`, windowMs: hourMs },
  );
  if (user === undefined || destination === undefined) return;
  ctx.background.run('deliver a password reset code', () => deliverResetCode(ctx, user, destination, { code, expiresAt }, meta), { delayMs: randomInt(1, deliveryJitterMs) });
}

async function deliverResetCode(ctx: FlowContext, user: UserRow, destination: ResetDestination, reset: { code: string; expiresAt: number }, meta: RequestMeta): Promise<void> {
  const budget = await trySendBudgets(ctx, destination.channel, { ...meta, userId: user.id }, [
    { scope: 'destination', keyspace: 'destination', id: destination.to, limit: ctx.config.otp.sendsPerDestination, windowMs: destinationWindowMs },
  ]);
  // Refused: counted and recorded by the budget; nobody is waiting for an answer any more.
  if (!budget.taken) return;
  const minutes = Math.round(ctx.config.passwordResetTtlSeconds / 60);
  await ctx.senders[destination.channel].send({
    channel: destination.channel,
    to: destination.to,
    subject: `Reset your ${ctx.config.serviceName} password`,
    text: `Someone asked to reset the ${ctx.config.serviceName} password of ${user.username}. If it was you, use this code within ${minutes} minutes: ${reset.code}\nResetting the password does not sign you in: you will still need your second factor. If it was not you, ignore this message.`,
    purpose: 'password_reset',
    expiresAt: reset.expiresAt,
  });
}

function invalidResetCode(): TwofoldError {
  return new TwofoldError('invalid_code', 'The reset code is wrong, expired or already used; ask for a new one.');
}

export async function resetPassword(ctx: FlowContext, input: { username: string; code: string; newPassword: string }, meta: RequestMeta = {}): Promise<void> {
  requirePasswordResetEnabled(ctx);
  const check = normalizeUsername(input.username);
  const account = check.ok ? check.username : input.username.normalize('NFKC').toLowerCase();
  // Read before the guess is spent, the same for every name: what cannot be a code costs nothing.
  const hash = codeHash(ctx, requireRecoveryCode(input.code, 'code'));
  await withGuess(ctx, account, meta, async (guess) => {
    const user = check.ok ? await findUserByUsername(ctx.db, check.username) : undefined;
    const now = ctx.now();
    const reset = await findPasswordResetByHash(ctx.db, hash);
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
      // A reset an admin forced is done: the new password signs in.
      await clearPasswordResetRequirement(trx, user.id);
      await forgetAllTrustedDevices(ctx, trx, user.id, 'password_reset');
      return ended;
    });
    await announceRevokedSessions(ctx, ended.signedIn);
    await guess.completed();
    await unlockAccount(ctx, account, user.id);
    ctx.events.record({ type: 'password.reset', userId: user.id, ip: meta.ip, userAgent: meta.userAgent, details: { sessions_ended: ended.signedIn.length, logins_ended: ended.pendingLogins, had_password: hasPassword(user) } });
  });
}
