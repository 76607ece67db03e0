// Where a password reset code can go (TWOFOLD_PASSWORD_RESET): the account's verified address,
// else the phone of an active SMS factor while SMS factors are enabled — never an address nobody
// proved (anyone can type a victim's address at sign-up). One answer for the reset itself
// (password-reset.ts) and for the passwordless rule (can-go-passwordless.ts), whose way back in
// once the passkeys are gone is exactly such a reset.
import type { FactorRow, UserRow } from '../../store/database.js';
import type { FlowContext } from '../shared/context.js';

export type ResetDestination = { channel: 'email' | 'sms'; to: string };

export function resetDestinationOf(ctx: FlowContext, user: Pick<UserRow, 'email' | 'email_verified_at'>, activeFactors: readonly FactorRow[]): ResetDestination | undefined {
  const channels = ctx.config.passwordResetChannels;
  if (channels.includes('email') && user.email !== null && user.email_verified_at !== null) return { channel: 'email', to: user.email };
  if (!channels.includes('sms') || !ctx.config.factors.has('sms')) return undefined;
  const sms = activeFactors.find((factor) => factor.type === 'sms' && factor.destination !== null);
  return sms?.destination === undefined || sms.destination === null ? undefined : { channel: 'sms', to: sms.destination };
}
