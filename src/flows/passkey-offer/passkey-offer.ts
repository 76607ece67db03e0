// The offer of a passkey that signs in alone, made by the hosted pages right after a sign-in with a
// password and a second factor — while that second factor is recent enough for the ordinary
// passkey enrollment to accept it without asking again (the step-up window), so the offer is one
// click and then goes away by itself — only to someone who has no such passkey yet, and not again
// for a while after "Not now" (kept on the user, so a restart or another instance does not forget it).
import { isRecentAuthentication, type AccessAuthentication } from '../sessions/authenticate.js';
import type { FlowContext } from '../shared/context.js';
import { markPasskeyOfferDismissed } from '../../store/repositories/users.js';
import type { WebauthnCredentialRow } from '../../store/database.js';
import { isDiscoverablePasskey } from '../factors/discoverable-passkey.js';

/** After "Not now", the offer stays away this long. */
export const passkeyOfferQuietDays = 90;

/** `passkeys`: the user's active passkeys, as the caller has already read them. */
export function shouldOfferPasskey(ctx: FlowContext, auth: AccessAuthentication, passkeys: readonly WebauthnCredentialRow[]): boolean {
  if (!ctx.config.factors.has('webauthn')) return false;
  // After a password and a second factor: not a remembered browser (it would need a step-up
  // first), not a passkey sign-in (that person has one).
  const amr = auth.claims.amr;
  if (!amr.includes('pwd') || !amr.includes('mfa')) return false;
  if (!isRecentAuthentication(ctx, auth.session)) return false;
  const dismissedAt = auth.user.passkey_offer_dismissed_at;
  if (dismissedAt !== null && ctx.now() - dismissedAt < passkeyOfferQuietDays * 86_400_000) return false;
  return !passkeys.some(isDiscoverablePasskey);
}

/** "Not now": a preference, not a security event (nothing about the account changes). */
export async function dismissPasskeyOffer(ctx: FlowContext, auth: AccessAuthentication): Promise<void> {
  await markPasskeyOfferDismissed(ctx.db, auth.user.id, ctx.now());
}
