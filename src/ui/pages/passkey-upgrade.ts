// "Upgrade" of a passkey that serves only as a second factor: a new passkey (which signs in alone)
// is created through the ordinary enrollment, and the old one is removed once the new one is
// confirmed — never before, so a cancelled or failed creation leaves the account as it was. What
// links the two is kept in the shared store for as long as the enrollment's ceremony may last.
import { webauthnTimeoutMs } from '../../core/webauthn/ceremonies.js';
import type { AccessAuthentication } from '../../flows/sessions/authenticate.js';
import { removeOwnFactor } from '../../flows/factors/manage-factors.js';
import type { FlowContext, RequestMeta } from '../../flows/shared/context.js';
import { findFactor } from '../../store/repositories/factors.js';

const upgradeKey = (newFactorId: string) => `passkey-upgrade:${newFactorId}`;

/** Remembers that the passkey being enrolled replaces `replaces` (only the person's own active passkey). */
export async function rememberPasskeyUpgrade(ctx: FlowContext, auth: AccessAuthentication, newFactorId: string, replaces: string): Promise<void> {
  const old = await findFactor(ctx.db, replaces);
  if (old === undefined || old.user_id !== auth.user.id || old.type !== 'webauthn' || old.status !== 'active') return;
  await ctx.kv.set(upgradeKey(newFactorId), `${auth.user.id} ${old.id}`, webauthnTimeoutMs + 60_000);
}

/** After the new passkey was confirmed: removes the one it replaces. True when one was removed. */
export async function finishPasskeyUpgrade(ctx: FlowContext, auth: AccessAuthentication, newFactorId: string, meta: RequestMeta): Promise<boolean> {
  const marker = await ctx.kv.take(upgradeKey(newFactorId));
  if (marker === undefined) return false;
  const [userId, oldFactorId] = marker.split(' ');
  if (userId !== auth.user.id || oldFactorId === undefined) return false;
  // The new passkey was confirmed with a fresh second factor moments ago: the removal's step-up holds.
  await removeOwnFactor(ctx, auth, oldFactorId, meta);
  return true;
}
