// What a message may cost (RC-02: SMS pumping, e-mail bombing). Every SMS or e-mail Twofold sends
// on a request's behalf takes, before the code is created or the message handed to the provider:
//   1. the client network's budget per hour (IPv6 per /64, IPv4-mapped as IPv4): new accounts are
//      free, so per-account budgets alone let one script send to 120 numbers in a second;
//   2. the message's own budgets — per destination and per account — where it has them;
//   3. everyone's budget per hour, the cap on what an attacker with many networks can cost.
// The client's own budget comes first, so a client over it spends nothing that others share. A
// refusal is counted (twofold_send_budget_refusals_total{channel, scope}) and recorded as a
// `send_budget.exhausted` event once per budget window, not once per refusal.
import { sha256Base64url } from '../../core/crypto/digest.js';
import { tooManyAttempts, takeBudgets, type Budget } from './budgets.js';
import { clientNetworkId } from '../shared/client-network.js';
import { recordCoalescedEvent } from '../audit/coalesced-events.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import type { SendBudgetScope, SendChannel } from '../shared/flow-metrics.js';

const hourMs = 60 * 60 * 1000;

/** A budget of the message itself (its destination, its account); the key is hashed here. */
export interface OwnSendBudget {
  scope: 'destination' | 'account';
  /** Which budget of that scope: codes to a destination, verification mails to an address … */
  keyspace: string;
  /** Whose budget: the phone, address or user id (hashed before it reaches the shared store). */
  id: string;
  limit: number;
  windowMs: number;
}

interface ScopedBudget extends Budget {
  scope: SendBudgetScope;
}

const refusalDetail: Record<SendBudgetScope, string> = {
  client: 'Too many messages were sent for this network; try again later.',
  destination: 'Too many messages were sent to this destination; try again later.',
  account: 'Too many codes were sent for this account; try again later.',
  recipient: 'Too many notices were sent to this address; try again later.',
  global: 'Too many messages are being sent right now; try again later.',
};

function budgetsFor(ctx: FlowContext, channel: SendChannel, meta: RequestMeta, own: readonly OwnSendBudget[]): ScopedBudget[] {
  const { perClientPerHour, perHour } = ctx.config.budgets.sends[channel];
  const network = clientNetworkId(ctx, meta);
  // Keys hold hashes only: the shared store never sees a phone number, an address or an IP.
  const ownBudgets = own.map((budget) => ({ scope: budget.scope, key: `send:${budget.keyspace}:${sha256Base64url(budget.id)}`, limit: budget.limit, windowMs: budget.windowMs }));
  return [
    ...(network === undefined ? [] : [{ scope: 'client' as const, key: `send:${channel}:client:${network}`, limit: perClientPerHour, windowMs: hourMs }]),
    ...ownBudgets,
    { scope: 'global', key: `send:${channel}:global`, limit: perHour, windowMs: hourMs },
  ];
}

export type SendBudgetOutcome = { taken: true } | { taken: false; scope: SendBudgetScope; retryAfterSeconds: number };

/** Takes every budget a message needs, or none of them; a refusal is counted and recorded. */
export async function trySendBudgets(ctx: FlowContext, channel: SendChannel, meta: RequestMeta & { userId?: string | undefined }, own: readonly OwnSendBudget[] = []): Promise<SendBudgetOutcome> {
  const outcome = await takeBudgets(ctx, budgetsFor(ctx, channel, meta, own));
  if (outcome.taken) return outcome;
  const { scope, key } = outcome.refused;
  ctx.metrics.countSendRefused(channel, scope);
  // Once per window of the budget that refused: the key names the budget and its window.
  await recordCoalescedEvent(
    ctx,
    { type: 'send_budget.exhausted', userId: scope === 'client' || scope === 'global' ? undefined : meta.userId, ip: meta.ip, userAgent: meta.userAgent, details: { channel, scope } },
    { key: `${key}@${outcome.windowEndsAt}`, windowMs: Math.max(1, outcome.windowEndsAt - ctx.now()) },
  );
  return { taken: false, scope, retryAfterSeconds: outcome.retryAfterSeconds };
}

/** As trySendBudgets, for a requester who is waiting: a refusal is a 429 with Retry-After. */
export async function takeSendBudgets(ctx: FlowContext, channel: SendChannel, meta: RequestMeta & { userId?: string | undefined }, own: readonly OwnSendBudget[] = []): Promise<void> {
  const outcome = await trySendBudgets(ctx, channel, meta, own);
  if (!outcome.taken) throw tooManyAttempts(refusalDetail[outcome.scope], outcome.retryAfterSeconds);
}
