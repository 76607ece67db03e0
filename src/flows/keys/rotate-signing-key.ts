// Rotating the signing key: a new key becomes current in the database, and every instance is
// told at once (pub/sub) instead of noticing at its next one-minute reload.
import type { SigningKey } from '../../core/tokens/signing-key.js';
import { publishClusterEvent } from '../shared/cluster-events.js';
import type { FlowContext } from '../shared/context.js';

export async function rotateSigningKey(ctx: FlowContext): Promise<{ previous: SigningKey; current: SigningKey }> {
  const previous = await ctx.keys.currentKey();
  const current = await ctx.keys.rotate();
  ctx.events.record({ type: 'signing_key.rotated', details: { previous_kid: previous.kid, kid: current.kid } });
  try {
    await publishClusterEvent(ctx.kv, { type: 'signing_key.rotated', kid: current.kid });
  } catch (error) {
    ctx.diagnostics.warn({ err: error }, 'key rotation not announced through Redis; instances pick it up within a minute');
  }
  return { previous, current };
}
