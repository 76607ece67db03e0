// Budgets taken together: a request that needs several (a message counts against its destination,
// its account, its client network and everyone) takes one unit of each, in order, each in one
// atomic step of the shared store (increment-then-compare: never read a count, act, then write —
// concurrent requests would all read the same count). When one refuses, the units already taken are given back, so a refused request costs
// no budget — and a client over its own budget never eats into the ones it shares with others.
import { TwofoldError } from '../../errors.js';
import type { FlowContext } from '../shared/context.js';

export interface Budget {
  /** The shared-store key; the caller hashes anything personal in it. */
  key: string;
  limit: number;
  windowMs: number;
}

export type BudgetsOutcome<B extends Budget> = { taken: true } | { taken: false; refused: B; retryAfterSeconds: number; windowEndsAt: number };

export async function takeBudgets<B extends Budget>(ctx: FlowContext, budgets: readonly B[]): Promise<BudgetsOutcome<B>> {
  const now = ctx.now();
  const taken: Array<{ key: string; windowEndsAt: number }> = [];
  for (const budget of budgets) {
    const outcome = await ctx.kv.consumeBudget(budget.key, now, { limit: budget.limit, windowMs: budget.windowMs });
    if (!outcome.consumed) {
      for (const unit of taken.reverse()) await ctx.kv.refundBudget(unit.key, now, unit.windowEndsAt);
      return { taken: false, refused: budget, retryAfterSeconds: Math.max(1, Math.ceil((outcome.windowEndsAt - now) / 1000)), windowEndsAt: outcome.windowEndsAt };
    }
    taken.push({ key: budget.key, windowEndsAt: outcome.windowEndsAt });
  }
  return { taken: true };
}

/** 429 with Retry-After, in the header and the problem document. */
export function tooManyAttempts(detail: string, retryAfterSeconds: number): TwofoldError {
  return new TwofoldError('too_many_attempts', detail, { headers: { 'Retry-After': String(retryAfterSeconds) }, extensions: { retry_after: retryAfterSeconds } });
}
