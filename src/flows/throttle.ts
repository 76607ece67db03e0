// Throttling of failed attempts (SECURITY.md LG-04/LG-05, FL-05), kept in the KeyValueStore so it
// counts the same on every instance (Redis):
// - Per account: consecutive failures of the password and the second factor together, counted
//   also for usernames that do not exist (no row to count in, and the answer must look the same).
//   After `freeFailures`, each failure doubles a wait (1 s, 2 s, 4 s … up to `maxDelaySeconds`)
//   answered 429 with Retry-After before any password hashing; at `lockFailures` the account is
//   locked until a password reset or an admin unlock. A completed login clears the count.
// - Per client IP: failures per 15 minutes (the IP as Fastify sees it — X-Forwarded-For only from
//   trusted proxies), so one address cannot spray many accounts.
import { sha256Base64url } from '../core/crypto/digest.js';
import { TwofoldError } from '../errors.js';
import { incrementFailedAttempts, lockUser, unlockUser } from '../store/repositories/users.js';
import type { FlowContext, RequestMeta } from './context.js';

const failureWindowMs = 30 * 24 * 60 * 60 * 1000;
const lockLifetimeMs = failureWindowMs;
const ipWindowMs = 15 * 60 * 1000;
/** A lock or a wait forgotten early would hand out guesses: the store never evicts one to make room. */
const keptUntilExpiry = { keepUntilExpiry: true };

function accountKeys(account: string): { failures: string; until: string; locked: string } {
  const id = sha256Base64url(account);
  return { failures: `throttle:account:${id}:failures`, until: `throttle:account:${id}:until`, locked: `throttle:account:${id}:locked` };
}

function ipKeys(ip: string): { failures: string; windowEnd: string } {
  const id = sha256Base64url(ip);
  return { failures: `throttle:ip:${id}:failures`, windowEnd: `throttle:ip:${id}:window` };
}

function waitError(seconds: number, detail: string): TwofoldError {
  return new TwofoldError('too_many_attempts', detail, { headers: { 'Retry-After': String(seconds) }, extensions: { retry_after: seconds } });
}

export function lockedError(): TwofoldError {
  return new TwofoldError('too_many_attempts', 'This account is locked after too many failed attempts. Reset your password to unlock it, or ask an administrator.', {
    extensions: { locked: true },
  });
}

/** Throws 429 while the client IP has failed too often (no IP known: nothing to check). */
export async function checkIpThrottle(ctx: FlowContext, meta: RequestMeta): Promise<void> {
  if (meta.ip === undefined) return;
  const ip = ipKeys(meta.ip);
  const failures = Number((await ctx.kv.get(ip.failures)) ?? 0);
  if (failures >= ctx.config.throttle.ipFailuresPerWindow) {
    ctx.metrics.countThrottleDecision('ip', 'delayed');
    const now = ctx.now();
    const windowEnd = Number((await ctx.kv.get(ip.windowEnd)) ?? now + ipWindowMs);
    throw waitError(Math.max(1, Math.ceil((windowEnd - now) / 1000)), 'Too many failed attempts from this network; try again later.');
  }
  ctx.metrics.countThrottleDecision('ip', 'allowed');
}

/** Counts a failure against the client IP's 15-minute window. */
export async function recordIpFailure(ctx: FlowContext, meta: RequestMeta): Promise<void> {
  if (meta.ip === undefined) return;
  const ip = ipKeys(meta.ip);
  await ctx.kv.setIfAbsent(ip.windowEnd, String(ctx.now() + ipWindowMs), ipWindowMs);
  await ctx.kv.increment(ip.failures, ipWindowMs);
}

/** Throws 429 while the account is locked or waiting, or the client IP has failed too often. */
export async function checkAccountThrottle(ctx: FlowContext, account: string, meta: RequestMeta = {}): Promise<void> {
  await checkIpThrottle(ctx, meta);
  const keys = accountKeys(account);
  if ((await ctx.kv.get(keys.locked)) !== undefined) {
    ctx.metrics.countThrottleDecision('account', 'locked');
    throw lockedError();
  }
  const waitMs = Number((await ctx.kv.get(keys.until)) ?? 0) - ctx.now();
  if (waitMs > 0) {
    ctx.metrics.countThrottleDecision('account', 'delayed');
    const seconds = Math.ceil(waitMs / 1000);
    throw waitError(seconds, `Too many failed attempts for this account; try again in ${seconds} seconds.`);
  }
  ctx.metrics.countThrottleDecision('account', 'allowed');
}

/**
 * The user's own failure counter (shown by `twofold users show`), written off the answer's path on
 * unauthenticated routes: a database write only real accounts pay would time them apart from
 * names that do not exist (LG-01/02/03).
 */
export function countUserFailureInBackground(ctx: FlowContext, userId: string): void {
  ctx.background.run('count a failed attempt of the user', () => incrementFailedAttempts(ctx.db, userId));
}

/** Counts a failure against the account (and the IP); may start a wait or lock the account. */
export async function recordAccountFailure(ctx: FlowContext, account: string, meta: RequestMeta & { userId?: string | undefined } = {}): Promise<number> {
  const keys = accountKeys(account);
  const now = ctx.now();
  await recordIpFailure(ctx, meta);
  const failures = await ctx.kv.increment(keys.failures, failureWindowMs);
  const { freeFailures, maxDelaySeconds, lockFailures } = ctx.config.throttle;
  if (failures >= lockFailures) {
    if (await ctx.kv.setIfAbsent(keys.locked, String(now), lockLifetimeMs, keptUntilExpiry)) {
      // Kept in the database too (it outlives a Redis restart), written off the answer's path:
      // a real account must not answer slower than a name that does not exist (LG-01/02/03).
      const userId = meta.userId;
      if (userId !== undefined) ctx.background.run('lock the account in the database', () => lockUser(ctx.db, userId, now).then(() => undefined));
      ctx.events.record({ type: 'account.locked', userId: meta.userId, ip: meta.ip, userAgent: meta.userAgent, details: { failures } });
    }
  } else if (failures > freeFailures) {
    const delayMs = Math.min(2 ** Math.min(failures - freeFailures - 1, 30), maxDelaySeconds) * 1000;
    await ctx.kv.set(keys.until, String(now + delayMs), delayMs, keptUntilExpiry);
  }
  return failures;
}

/**
 * After a success that is already committed (tokens issued): best effort. Failing the response
 * now would lose the tokens of a login that happened; a stale count only delays a later attempt.
 */
export async function clearAccountThrottle(ctx: FlowContext, account: string): Promise<void> {
  const keys = accountKeys(account);
  try {
    await ctx.kv.delete(keys.failures, keys.until);
  } catch (error) {
    ctx.diagnostics.warn({ err: error }, 'could not clear the failure count of an account after a successful login');
  }
}

/** Ends a lock (password reset, admin unlock): the count starts over. */
export async function unlockAccount(ctx: FlowContext, account: string, userId: string): Promise<boolean> {
  const keys = accountKeys(account);
  await ctx.kv.delete(keys.failures, keys.until, keys.locked);
  return unlockUser(ctx.db, userId);
}
