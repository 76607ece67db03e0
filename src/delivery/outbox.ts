// The development provider: messages are kept in the database (listed by `twofold outbox`) and,
// in development mode, printed to the console so that someone trying Twofold can read the code.
import type { Kysely } from 'kysely';
import { generateId } from '../core/crypto/random.js';
import type { Database } from '../store/database.js';
import { insertOutboxMessage } from '../store/repositories/outbox.js';
import type { MessageSender } from './message.js';

export function createOutboxSender(db: Kysely<Database>, now: () => number, print: ((line: string) => void) | undefined): MessageSender {
  return {
    provider: 'outbox',
    async send(message) {
      await insertOutboxMessage(db, {
        id: generateId('msg'),
        channel: message.channel,
        destination: message.to,
        subject: message.subject ?? null,
        body: message.text,
        purpose: message.purpose,
        created_at: now(),
        expires_at: message.expiresAt,
      });
      print?.(`[outbox] ${message.channel} to ${message.to}: ${message.text.replace(/\s+/g, ' ')}`);
    },
  };
}
