// Guess budgets (RC-01, LG-04/LG-05, FL-05): every check of a secret — a password, a
// TOTP, SMS or e-mail code, a recovery code, a passkey assertion, a reset code, a remembered
// browser's token, a step-up — first *spends* a guess, in one atomic step of the shared store
// (Redis when configured, so it holds across every instance), and only then evaluates the secret.
// Reading the count and writing it after the check would let 1,000 parallel guesses all see the
// same count: each would be evaluated (999 of 1,000 were, before this rule). Spent up front, a burst
// gets no further than the budget, whichever instance each request lands on.
// - Per account: consecutive failures of the password and the second factor together, counted
//   also for usernames that do not exist (no row to count in, and the answer must look the same).
//   After `freeFailures`, each guess doubles a wait (1 s, 2 s, 4 s … up to `maxDelaySeconds`)
//   answered 429 with Retry-After before any password hashing; the guess that reaches
//   `lockFailures` locks the account until a password reset or an admin unlock.
// - Per client network (an IPv4 address, an IPv6 /64): failures per 15 minutes, so one client
//   cannot spray many accounts.
// A guess that turns out right is given back (one failure less, and the wait it started undone);
// a completed sign-in clears the account's count. A wrong one stays spent.
import { sha256Base64url } from '../../core/crypto/digest.js';
import { TwofoldError } from '../../errors.js';
import type { GuessKeys, GuessPolicy, GuessTaken } from '../../store/kv/key-value-store.js';
import { incrementFailedAttempts, lockUser, unlockUser } from '../../store/repositories/users.js';
import { clientNetworkId } from '../shared/client-network.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';

const failuresLifetimeMs = 30 * 24 * 60 * 60 * 1000;
const lockLifetimeMs = failuresLifetimeMs;
const clientWindowMs = 15 * 60 * 1000;

function accountKeys(account: string): GuessKeys {
  const id = sha256Base64url(account);
  return { failures: `throttle:account:${id}:failures`, waitUntil: `throttle:account:${id}:until`, locked: `throttle:account:${id}:locked` };
}

const clientKey = (networkId: string) => `throttle:client:${networkId}:guesses`;

function guessPolicy(ctx: FlowContext): GuessPolicy {
  const { freeFailures, maxDelaySeconds, lockFailures } = ctx.config.throttle;
  return { freeFailures, maxDelayMs: maxDelaySeconds * 1000, lockFailures, failuresLifetimeMs, lockLifetimeMs };
}

function waitError(milliseconds: number, detail: (seconds: number) => string): TwofoldError {
  const seconds = Math.max(1, Math.ceil(milliseconds / 1000));
  return new TwofoldError('too_many_attempts', detail(seconds), { headers: { 'Retry-After': String(seconds) }, extensions: { retry_after: seconds } });
}

export function lockedError(): TwofoldError {
  return new TwofoldError('too_many_attempts', 'This account is locked after too many failed attempts. Reset your password to unlock it, or ask an administrator.', {
    extensions: { locked: true },
  });
}

/** A guess spent before its secret is evaluated; settle it once the answer is known. */
export interface Guess {
  /** The secret was wrong (or replayed): the guess stays spent; a lock it took is recorded. */
  wrong(details?: { userId?: string | undefined }): Promise<void>;
  /** The secret was right, or nothing was evaluated after all: the guess is given back. */
  refund(): Promise<void>;
  /** A completed sign-in or step-up: the account's count starts over. */
  completed(): Promise<void>;
}

/**
 * Spends one guess of the client network and, when an account is named, one of the account —
 * or throws 429 (nothing spent) while either has none left. A name that matches no account is
 * counted all the same.
 */
export async function spendGuess(ctx: FlowContext, account: string | undefined, meta: RequestMeta & { userId?: string | undefined }): Promise<Guess> {
  const now = ctx.now();
  const networkId = clientNetworkId(ctx, meta);
  const client = networkId === undefined ? undefined : { key: clientKey(networkId), ...(await consumeClientGuess(ctx, networkId, now)) };
  const refundClient = async () => {
    if (client !== undefined) await ctx.kv.refundBudget(client.key, ctx.now(), client.windowEndsAt);
  };
  let taken: GuessTaken | undefined;
  if (account !== undefined) {
    const keys = accountKeys(account);
    const consumption = await ctx.kv.consumeGuess(keys, now, guessPolicy(ctx));
    if (!consumption.consumed) {
      await refundClient();
      ctx.metrics.countThrottleDecision('account', consumption.locked ? 'locked' : 'delayed');
      if (consumption.locked) throw lockedError();
      throw waitError(consumption.retryAfterMs, (seconds) => `Too many failed attempts for this account; try again in ${seconds} seconds.`);
    }
    ctx.metrics.countThrottleDecision('account', 'allowed');
    taken = consumption;
  }
  const keys = account === undefined ? undefined : accountKeys(account);
  let settled = false;
  const settle = () => {
    if (settled) return false;
    settled = true;
    return true;
  };
  return {
    async wrong(details = {}) {
      if (!settle()) return;
      if (taken?.locked !== true) return;
      const userId = details.userId ?? meta.userId;
      // Kept in the database too (it outlives a Redis restart), written off the answer's path:
      // a real account must not answer slower than a name that does not exist (LG-01/02/03).
      if (userId !== undefined) ctx.background.run('lock the account in the database', () => lockUser(ctx.db, userId, now).then(() => undefined));
      ctx.events.record({ type: 'account.locked', userId, ip: meta.ip, userAgent: meta.userAgent, details: { failures: taken.count } });
    },
    async refund() {
      if (!settle()) return;
      await refundClient();
      if (keys !== undefined && taken !== undefined) await ctx.kv.refundGuess(keys, ctx.now(), taken, guessPolicy(ctx));
    },
    async completed() {
      if (!settle()) return;
      // After a success that is already committed (tokens issued): best effort. Failing the
      // response now would lose the tokens of a login that happened; a stale count only delays.
      try {
        await refundClient();
        if (keys !== undefined) await ctx.kv.delete(keys.failures, keys.waitUntil);
      } catch (error) {
        ctx.diagnostics.warn({ err: error }, 'could not clear the failure count of an account after a successful sign-in');
      }
    },
  };
}

async function consumeClientGuess(ctx: FlowContext, networkId: string, now: number): Promise<{ windowEndsAt: number }> {
  const consumption = await ctx.kv.consumeBudget(clientKey(networkId), now, { limit: ctx.config.throttle.ipFailuresPerWindow, windowMs: clientWindowMs });
  if (!consumption.consumed) {
    ctx.metrics.countThrottleDecision('ip', 'delayed');
    throw waitError(consumption.windowEndsAt - now, () => 'Too many failed attempts from this network; try again later.');
  }
  ctx.metrics.countThrottleDecision('ip', 'allowed');
  return { windowEndsAt: consumption.windowEndsAt };
}

/**
 * Runs `attempt` with a guess spent first. A guess the attempt leaves unsettled — it returned (the
 * secret was right) or threw before a verdict (a busy server, a malformed request, a lost race) —
 * is given back; `wrong()` and `completed()` settle it for good.
 */
export async function withGuess<T>(ctx: FlowContext, account: string | undefined, meta: RequestMeta & { userId?: string | undefined }, attempt: (guess: Guess) => Promise<T>): Promise<T> {
  const guess = await spendGuess(ctx, account, meta);
  try {
    return await attempt(guess);
  } finally {
    await guess.refund().catch((error: unknown) => ctx.diagnostics.warn({ err: error }, 'could not give back an unsettled guess'));
  }
}

/**
 * The user's own failure counter (shown by `twofold users show`), written off the answer's path on
 * unauthenticated routes: a database write only real accounts pay would time them apart from
 * names that do not exist (LG-01/02/03).
 */
export function countUserFailureInBackground(ctx: FlowContext, userId: string): void {
  ctx.background.run('count a failed attempt of the user', () => incrementFailedAttempts(ctx.db, userId));
}

/** An administrator's reset: the count starts over (a lock stays until unlocked). */
export async function clearAccountThrottle(ctx: FlowContext, account: string): Promise<void> {
  const keys = accountKeys(account);
  await ctx.kv.delete(keys.failures, keys.waitUntil);
}

/** Ends a lock (password reset, admin unlock): the count starts over. */
export async function unlockAccount(ctx: FlowContext, account: string, userId: string): Promise<boolean> {
  const keys = accountKeys(account);
  await ctx.kv.delete(keys.failures, keys.waitUntil, keys.locked);
  return unlockUser(ctx.db, userId);
}
