// The password step of a sign-in. It never returns an access or refresh token, only an
// mfa_token bound to a new pending session (LG-07). Unknown user, wrong password and disabled
// account fail identically, and an unknown user (or an account without a password) still costs
// one argon2 verify.
import { normalizeUsername } from '../../core/identity/username.js';
import { normalizePassword } from '../../core/password/normalize.js';
import { hasPassword } from '../../core/password/no-password.js';
import { TwofoldError } from '../../errors.js';
import { listFactorsOfUser } from '../../store/repositories/factors.js';
import type { UserRow } from '../../store/database.js';
import { findUserByUsername, updatePasswordHash } from '../../store/repositories/users.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { invalidCredentials, withHashCapacity } from '../shared/errors.js';
import { insertPendingSession, mintMfaTokenFor } from '../sessions/pending-session.js';
import { clientNetworkId } from '../shared/client-network.js';
import { recordCoalescedEvent } from '../audit/coalesced-events.js';
import { countUserFailureInBackground, lockedError, withGuess } from '../budgets/throttle.js';
import { toFactorSummary, type FactorSummary } from '../shared/views.js';

export interface LoginInput {
  username: string;
  password: string;
}

export interface LoginResult {
  mfa_token: string;
  expires_in: number;
  next: 'verify' | 'enroll';
  factors: FactorSummary[];
}

const refusalWindowMs = 15 * 60 * 1000;

export async function login(ctx: FlowContext, input: LoginInput, meta: RequestMeta = {}): Promise<LoginResult> {
  const password = normalizePassword(input.password);
  const usernameCheck = normalizeUsername(input.username);
  // Throttled by the name as typed (normalized), whether or not such an account exists.
  const account = usernameCheck.ok ? usernameCheck.username : input.username.normalize('NFKC').toLowerCase();
  let guessSpent = false;
  return withGuess(ctx, account, meta, async (guess) => {
    guessSpent = true;
    const user = usernameCheck.ok ? await findUserByUsername(ctx.db, usernameCheck.username) : undefined;
    if (user?.locked_at !== null && user?.locked_at !== undefined) {
      // Locked in the database even if the shared store forgot (a Redis restart): still locked.
      await recordRefusal(ctx, account, meta, 'locked', user.id);
      throw lockedError();
    }
    // Disabled (an admin's deletion waiting) or a password an admin made the owner reset: the
    // answer of an unknown name (LG-01); the owner was told by the admin's notice or reset code.
    if (user === undefined || user.disabled_at !== null || user.password_reset_required_at !== null) {
      await withHashCapacity(ctx.passwordHasher.verifyAgainstDummy(password));
      await guess.wrong();
      const reason = user === undefined ? 'unknown_user' : user.disabled_at !== null ? 'disabled' : 'password_reset_required';
      ctx.events.record({ type: 'login.password_failed', userId: user?.id, ip: meta.ip, userAgent: meta.userAgent, details: { reason } });
      throw invalidCredentials();
    }
    // An account without a password (PW-17) costs the dummy verify an unknown name costs, and
    // fails like a wrong password: the same answer, the same guess spent, the same failure count.
    const matched = hasPassword(user) ? await withHashCapacity(ctx.passwordHasher.verify(user.password_hash, password)) : await withHashCapacity(ctx.passwordHasher.verifyAgainstDummy(password));
    if (!matched) {
      countUserFailureInBackground(ctx, user.id);
      await guess.wrong({ userId: user.id });
      ctx.events.record({ type: 'login.password_failed', userId: user.id, ip: meta.ip, userAgent: meta.userAgent, details: { reason: hasPassword(user) ? 'wrong_password' : 'no_password' } });
      throw invalidCredentials();
    }
    // The right password is not a sign-in yet: its guess is given back when this returns.
    return startSecondFactor(ctx, user, password, meta);
  }).catch((error: unknown) => {
    // Refused before a guess could be spent: the account (or this client) is waiting or locked.
    if (!guessSpent && error instanceof TwofoldError && error.code === 'too_many_attempts') {
      return recordRefusal(ctx, account, meta, error.extensions['locked'] === true ? 'locked' : 'waiting').then(() => Promise.reject(error));
    }
    throw error;
  });
}

/**
 * A refused sign-in is recorded once per account name, client network and reason in a window:
 * refusals cost the refused nothing, so recording each would let anyone write without bound.
 */
function recordRefusal(ctx: FlowContext, account: string, meta: RequestMeta, reason: 'locked' | 'waiting', userId?: string): Promise<boolean> {
  ctx.metrics.countLoginRefused(reason);
  const event = { type: 'login.throttled' as const, userId, ip: meta.ip, userAgent: meta.userAgent, details: { reason } };
  return recordCoalescedEvent(ctx, event, { windowMs: refusalWindowMs, key: JSON.stringify([account, clientNetworkId(ctx, meta) ?? null, reason]) });
}

async function startSecondFactor(ctx: FlowContext, user: UserRow, password: string, meta: RequestMeta): Promise<LoginResult> {
  if (ctx.passwordHasher.needsRehash(user.password_hash)) {
    // Parameters changed since this hash was made: upgrade it now that we hold the password.
    await updatePasswordHash(ctx.db, user.id, await withHashCapacity(ctx.passwordHasher.hash(password)), ctx.now());
  }

  // The credentials as read before the password check: a change committed during it voids this login.
  const start = await insertPendingSession(ctx, ctx.db, user, meta);
  // Only factors of types this server still offers; a client offers the person the choice.
  const activeFactors = (await listFactorsOfUser(ctx.db, user.id, 'active')).filter((factor) => ctx.config.factors.has(factor.type));
  ctx.events.record({ type: 'login.password_verified', userId: user.id, sessionId: start.sessionId, ip: meta.ip, userAgent: meta.userAgent });
  return {
    mfa_token: await mintMfaTokenFor(ctx, user.id, start),
    expires_in: ctx.config.tokens.mfaTokenTtlSeconds,
    next: activeFactors.length > 0 ? 'verify' : 'enroll',
    factors: activeFactors.map(toFactorSummary),
  };
}
