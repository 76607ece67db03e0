// What a configuration would send to the development outbox, where nobody receives it: codes and
// notices kept in a database table instead of reaching a phone or a mailbox. Production refuses
// to start while anything would (loadConfig, and createMessageSenders for configurations built
// by hand), so that a deployment without an SMS gateway or SMTP is a decision — every use turned
// off by name — and never the silent result of a default.
import type { TwofoldConfig } from './schema.js';

type OutboxConfig = Pick<TwofoldConfig, 'factors' | 'sms' | 'email' | 'notifications' | 'passwordResetChannels'>;

export interface OutboxRefusal {
  /** The provider variable to set. */
  variable: 'TWOFOLD_SMS_PROVIDER' | 'TWOFOLD_EMAIL_PROVIDER';
  /** What would go to the outbox and every way out, for a person reading a start-up error. */
  message: string;
}

const preamble = 'production mode sends nothing to the development outbox, where nobody would receive it';

/** Every provider that would deliver to the outbox, with what it would carry; empty when none. */
export function outboxRefusals(config: OutboxConfig): OutboxRefusal[] {
  return [smsRefusal(config), emailRefusal(config)].filter((refusal) => refusal !== undefined);
}

/** The first of them; undefined when none. */
export function outboxRefusal(config: OutboxConfig): OutboxRefusal | undefined {
  return outboxRefusals(config)[0];
}

function smsRefusal(config: OutboxConfig): OutboxRefusal | undefined {
  // Reset codes go by SMS only to the phone of an active SMS factor, and only while that factor
  // type is enabled: with sms out of TWOFOLD_FACTORS, no text message is ever sent.
  if (config.sms.provider !== 'outbox' || !config.factors.has('sms')) return undefined;
  const carried = ['SMS sign-in codes (sms in TWOFOLD_FACTORS)'];
  if (config.passwordResetChannels.includes('sms')) carried.push('password-reset codes to verified phones (TWOFOLD_PASSWORD_RESET)');
  return {
    variable: 'TWOFOLD_SMS_PROVIDER',
    message: `${preamble}, but with TWOFOLD_SMS_PROVIDER=outbox ${listed(carried)} would go there. Set TWOFOLD_SMS_PROVIDER=twilio or webhook, or remove sms from TWOFOLD_FACTORS.`,
  };
}

function emailRefusal(config: OutboxConfig): OutboxRefusal | undefined {
  if (config.email.provider !== 'outbox') return undefined;
  const carried: string[] = [];
  const waysOut: string[] = [];
  if (config.factors.has('email')) {
    carried.push('e-mail sign-in codes (email in TWOFOLD_FACTORS)');
    waysOut.push('remove email from TWOFOLD_FACTORS');
  }
  if (config.passwordResetChannels.includes('email')) {
    carried.push('password-reset codes (TWOFOLD_PASSWORD_RESET)');
    const smsReset = config.factors.has('sms') && config.sms.provider !== 'outbox';
    waysOut.push(smsReset ? 'TWOFOLD_PASSWORD_RESET=sms (text messages only) or off' : 'TWOFOLD_PASSWORD_RESET=off');
  }
  if (config.notifications.channel === 'email') {
    carried.push('security notices (TWOFOLD_NOTIFY=email, the default)');
    waysOut.push('TWOFOLD_NOTIFY=webhook or off');
  }
  if (carried.length === 0) return undefined;
  return {
    variable: 'TWOFOLD_EMAIL_PROVIDER',
    message: `${preamble}, but with TWOFOLD_EMAIL_PROVIDER=outbox ${listed(carried)} would go there. Set TWOFOLD_EMAIL_PROVIDER=smtp and TWOFOLD_SMTP_URL, or do without e-mail: ${waysOut.join('; ')}.`,
  };
}

function listed(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
