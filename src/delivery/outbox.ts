// The development provider: messages are kept in the database for `twofold outbox` and, in
// development mode, printed to the console at send time so that someone trying Twofold can read
// the code. The database never holds a code in clear: a message's subject and text are sealed
// in one AES-256-GCM envelope bound to its row (AAD "outbox|<id>"), the way TOTP secrets are,
// so a copy of the database or a backup shows no code; only a holder of the encryption key
// (`twofold outbox`, the test helpers) opens it. A message is deleted once it stops mattering:
// a code when it expires, a notice (which carries no code) after a day. Production never uses
// this provider (see src/config/outbox-uses.ts).
import type { Kysely } from 'kysely';
import { generateId } from '../core/crypto/random.js';
import { secretBoxAad, SecretBoxError, type SecretBox } from '../core/crypto/secretbox.js';
import type { Database, OutboxRow } from '../store/database.js';
import { deleteExpiredOutboxMessages, insertOutboxMessage, listOutboxMessages } from '../store/repositories/outbox.js';
import type { MessageChannel, MessageSender } from './message.js';

/** A notice has no code that expires; keep it long enough for a person to look. */
const noticeKeptMs = 24 * 60 * 60 * 1000;

export interface OutboxSenderOptions {
  db: Kysely<Database>;
  secretBox: Pick<SecretBox, 'seal'>;
  now: () => number;
  /** Development only: where to show each message as it is sent. */
  print?: ((line: string) => void) | undefined;
}

/** What the envelope holds. */
interface OutboxContent {
  subject: string | null;
  text: string;
}

/** AAD of a message's envelope: moved to another row, it no longer opens. */
export function outboxAad(id: string): string {
  return secretBoxAad('outbox', id);
}

export function createOutboxSender(options: OutboxSenderOptions): MessageSender {
  return {
    provider: 'outbox',
    async send(message) {
      const now = options.now();
      await deleteExpiredOutboxMessages(options.db, now);
      const id = generateId('msg');
      const content: OutboxContent = { subject: message.subject ?? null, text: message.text };
      await insertOutboxMessage(options.db, {
        id,
        channel: message.channel,
        destination: message.to,
        purpose: message.purpose,
        content_ciphertext: options.secretBox.seal(JSON.stringify(content), outboxAad(id)),
        created_at: now,
        expires_at: message.purpose === 'notice' ? Math.max(message.expiresAt, now + noticeKeptMs) : message.expiresAt,
      });
      options.print?.(`[outbox] ${message.channel} to ${message.to}: ${message.text.replace(/\s+/g, ' ')}`);
    },
  };
}

export interface OutboxMessage extends Omit<OutboxRow, 'content_ciphertext'> {
  subject: string | null;
  /** The text as sent; undefined when the envelope does not open with the configured keys. */
  text: string | undefined;
  /** Why the text is missing: the key id it was sealed under is not configured, or it was damaged. */
  unopenable?: string;
}

/** The kept messages, newest first, opened with the encryption key. */
export async function readOutboxMessages(
  db: Kysely<Database>,
  secretBox: Pick<SecretBox, 'open' | 'keyIdOf'>,
  filter: { channel?: MessageChannel | undefined; destination?: string | undefined; limit: number },
): Promise<OutboxMessage[]> {
  const rows = await listOutboxMessages(db, filter);
  return rows.map(({ content_ciphertext: ciphertext, ...row }) => {
    try {
      const content = JSON.parse(secretBox.open(ciphertext, outboxAad(row.id))) as OutboxContent;
      return { ...row, subject: content.subject, text: content.text };
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
      const keyId = secretBox.keyIdOf(ciphertext);
      return { ...row, subject: null, text: undefined, unopenable: keyId === undefined ? 'not an envelope' : `sealed under encryption key ${keyId}, which does not open it here` };
    }
  });
}
