// Budgets of anonymous requests that write rows or start sends (RC-02: hundreds of anonymous
// requests a second must not bury a user's own events or create accounts by the thousand): accounts
// created per client network, "forgot password" per client network and per username. Taken
// atomically before the password is hashed or any row is written; a refusal is a 429 with
// Retry-After, counted (twofold_request_budget_refusals_total{action, scope}) and recorded as a
// `request_budget.exhausted` event once per budget window.
import { tooManyAttempts, takeBudgets } from './budgets.js';
import { recordCoalescedEvent } from '../audit/coalesced-events.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import type { RequestBudgetAction, RequestBudgetScope } from '../shared/flow-metrics.js';

export interface RequestBudget {
  scope: RequestBudgetScope;
  /** Shared-store key; hashed by the caller (a client network id, a hashed username). */
  key: string;
  limit: number;
  windowMs: number;
  /** What the 429 says. */
  detail: string;
}

export async function takeRequestBudgets(ctx: FlowContext, action: RequestBudgetAction, budgets: readonly RequestBudget[], meta: RequestMeta & { userId?: string | undefined }): Promise<void> {
  const outcome = await takeBudgets(ctx, budgets);
  if (outcome.taken) return;
  const { scope, key, detail } = outcome.refused;
  ctx.metrics.countRequestRefused(action, scope);
  await recordCoalescedEvent(
    ctx,
    { type: 'request_budget.exhausted', userId: meta.userId, ip: meta.ip, userAgent: meta.userAgent, details: { action, scope } },
    { key: `${key}@${outcome.windowEndsAt}`, windowMs: Math.max(1, outcome.windowEndsAt - ctx.now()) },
  );
  throw tooManyAttempts(detail, outcome.retryAfterSeconds);
}
