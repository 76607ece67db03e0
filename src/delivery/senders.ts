// Builds the configured SMS and e-mail senders.
import type { Kysely } from 'kysely';
import type { TwofoldConfig } from '../config/schema.js';
import type { Database } from '../store/database.js';
import type { MessageSender } from './message.js';
import { createOutboxSender } from './outbox.js';
import { createSmtpSender } from './smtp.js';
import { createTwilioSender } from './twilio.js';
import { createWebhookSender } from './webhook.js';

export interface MessageSenders {
  sms: MessageSender;
  email: MessageSender;
  close(): void;
}

export function createMessageSenders(config: TwofoldConfig, db: Kysely<Database>, now: () => number): MessageSenders {
  // Development prints outbox messages so a person trying Twofold can read their code; tests do not.
  const print = config.mode === 'development' ? (line: string) => void process.stdout.write(`${line}\n`) : undefined;
  const outbox = createOutboxSender(db, now, print);
  const sms =
    config.sms.provider === 'webhook'
      ? createWebhookSender(config.sms)
      : config.sms.provider === 'twilio'
        ? createTwilioSender(config.sms)
        : outbox;
  const smtp = config.email.provider === 'smtp' ? createSmtpSender(config.email) : undefined;
  return { sms, email: smtp ?? outbox, close: () => smtp?.close() };
}
