// Builds the configured SMS and e-mail senders. In production there is no outbox: a
// configuration that would use one is refused here too (for configurations built by hand rather
// than by loadConfig), and a channel left without a provider refuses every message instead of
// keeping it where nobody receives it.
import type { Kysely } from 'kysely';
import { ConfigError } from '../config/load.js';
import { outboxRefusal } from '../config/outbox-uses.js';
import { escapeUnsafeCharacters } from '../core/text/unsafe-characters.js';
import { isLoopbackHost } from '../config/production-defaults.js';
import type { TwofoldConfig } from '../config/schema.js';
import type { SecretBox } from '../core/crypto/secretbox.js';
import type { Database } from '../store/database.js';
import { DeliveryError, type MessageChannel, type MessageSender } from './message.js';
import { createOutboxSender } from './outbox.js';
import { createSmtpSender } from './smtp.js';
import { createTwilioSender } from './twilio.js';
import { createWebhookSender } from './webhook.js';

export interface MessageSenders {
  sms: MessageSender;
  email: MessageSender;
  close(): void;
}

export interface MessageSenderDependencies {
  db: Kysely<Database>;
  /** Seals what the development outbox keeps. */
  secretBox: Pick<SecretBox, 'seal'>;
  now: () => number;
}

export function createMessageSenders(config: TwofoldConfig, dependencies: MessageSenderDependencies): MessageSenders {
  const refusal = config.mode === 'production' ? outboxRefusal(config) : undefined;
  if (refusal !== undefined) throw new ConfigError(refusal.variable, refusal.message);
  // Development prints outbox messages so a person trying Twofold can read their code; tests do not.
  // The line names a destination a client typed: escaped like everything `twofold` prints.
  const print = config.mode === 'development' ? (line: string) => void process.stdout.write(`${escapeUnsafeCharacters(line)}\n`) : undefined;
  const fallback = (channel: MessageChannel): MessageSender =>
    config.mode === 'production' ? unconfiguredSender(channel) : createOutboxSender({ ...dependencies, print });
  const sms =
    config.sms.provider === 'webhook'
      ? createWebhookSender(config.sms)
      : config.sms.provider === 'twilio'
        ? createTwilioSender(config.sms)
        : fallback('sms');
  const smtp = config.email.provider === 'smtp' ? createSmtpSender({ ...config.email, requireTls: smtpRequiresTls(config) }) : undefined;
  return { sms, email: smtp ?? fallback('email'), close: () => smtp?.close() };
}

/** Production never lets SMTP fall back to plain text, unless it talks to a relay on this machine. */
export function smtpRequiresTls(config: Pick<TwofoldConfig, 'mode' | 'email'>): boolean {
  if (config.mode !== 'production' || config.email.provider !== 'smtp') return false;
  let host = '';
  try {
    host = new URL(config.email.url).hostname;
  } catch {
    // not a URL nodemailer could use either: require TLS all the same
  }
  return !isLoopbackHost(host);
}

/** Production without a provider for a channel nothing should use: a message is refused, never kept. */
function unconfiguredSender(channel: MessageChannel): MessageSender {
  return {
    provider: 'none',
    async send() {
      throw new DeliveryError('rejected', `no ${channel === 'sms' ? 'SMS' : 'e-mail'} provider is configured`);
    },
  };
}
