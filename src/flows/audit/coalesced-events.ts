// Repeated identical events are recorded once per window (without it, anyone could bury an
// account's own sign-in events under hundreds of "reset requested" rows a second). The first event
// of a window is recorded — saying for how long repeats are not — and the rest are dropped before
// any write. Decided in the shared store with one atomic claim, so it holds across every
// instance; the decision costs the same whatever the event says, so it tells nobody anything.
import { sha256Base64url } from '../../core/crypto/digest.js';
import { clientNetworkId } from '../shared/client-network.js';
import type { FlowContext } from '../shared/context.js';
import type { SecurityEvent } from '../shared/security-events.js';

export interface CoalesceOptions {
  /** How long an identical event is not recorded again. */
  windowMs: number;
  /**
   * What makes two events the same. By default: type, account, session, factor, client network
   * and details. A flow may name fewer (e.g. a username asked about, whether an account has it or not).
   */
  key?: string;
}

/** The default identity of an event: everything but the exact address and user agent within a network. */
export function identityOf(ctx: FlowContext, event: SecurityEvent): string {
  return JSON.stringify([event.type, event.userId ?? null, event.sessionId ?? null, event.factorId ?? null, clientNetworkId(ctx, { ip: event.ip }) ?? null, event.details ?? null]);
}

/** Records the event unless an identical one was recorded in the last `windowMs`; true when recorded. */
export async function recordCoalescedEvent(ctx: FlowContext, event: SecurityEvent, options: CoalesceOptions): Promise<boolean> {
  const key = `event:once:${sha256Base64url(`${event.type}\u0000${options.key ?? identityOf(ctx, event)}`)}`;
  // A claim on the caller's clock (not the store's expiry), like every budget: instances agree.
  const now = ctx.now();
  if ((await ctx.kv.claimUntil(key, now, now + options.windowMs)) !== undefined) return false;
  ctx.events.record({ ...event, details: { ...event.details, repeats_not_recorded_for_seconds: Math.ceil(options.windowMs / 1000) } });
  return true;
}
