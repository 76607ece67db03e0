// Per-account throttling of failed attempts — password and second factor together — kept in the
// KeyValueStore, so it counts the same on every instance (Redis) and also for usernames that do
// not exist (whose failures have no row to count in, and must look the same). After
// `freeFailures` consecutive failures each further failure doubles a waiting time (1 s, 2 s, 4 s,
// … up to `maxDelaySeconds`); an attempt during the wait is refused with 429 and Retry-After,
// before any password hashing. A completed login clears it.
import { sha256Base64url } from '../core/crypto/digest.js';
import { TwofoldError } from '../errors.js';
import type { FlowContext } from './context.js';

const failureWindowMs = 24 * 60 * 60 * 1000;

function keys(account: string): { failures: string; until: string } {
  const id = sha256Base64url(account);
  return { failures: `throttle:account:${id}:failures`, until: `throttle:account:${id}:until` };
}

/** Throws 429 too_many_attempts while the account is in a waiting period. */
export async function checkAccountThrottle(ctx: FlowContext, account: string): Promise<void> {
  const until = Number((await ctx.kv.get(keys(account).until)) ?? 0);
  const waitMs = until - ctx.now();
  if (waitMs > 0) {
    const seconds = Math.ceil(waitMs / 1000);
    throw new TwofoldError('too_many_attempts', `Too many failed attempts for this account; try again in ${seconds} seconds.`, {
      headers: { 'Retry-After': String(seconds) },
      extensions: { retry_after: seconds },
    });
  }
}

export async function recordAccountFailure(ctx: FlowContext, account: string): Promise<number> {
  const accountKeys = keys(account);
  const failures = await ctx.kv.increment(accountKeys.failures, failureWindowMs);
  const beyond = failures - ctx.config.throttle.freeFailures;
  if (beyond > 0) {
    const delayMs = Math.min(2 ** Math.min(beyond - 1, 30), ctx.config.throttle.maxDelaySeconds) * 1000;
    await ctx.kv.set(accountKeys.until, String(ctx.now() + delayMs), delayMs);
  }
  return failures;
}

/**
 * After a success that is already committed (tokens issued): best effort. Failing the response
 * now would lose the tokens of a login that happened; a stale count only delays a later attempt.
 */
export async function clearAccountThrottle(ctx: FlowContext, account: string): Promise<void> {
  const accountKeys = keys(account);
  try {
    await ctx.kv.delete(accountKeys.failures, accountKeys.until);
  } catch (error) {
    ctx.diagnostics.warn({ err: error }, 'could not clear the failure count of an account after a successful login');
  }
}
