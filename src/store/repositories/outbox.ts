// The development outbox: messages that would have been sent by SMS or e-mail, for people
// trying Twofold out (`twofold outbox`) and for tests. Production refuses this provider.
import type { Insertable } from 'kysely';
import type { Executor, OutboxRow, OutboxTable } from '../database.js';

export async function insertOutboxMessage(db: Executor, message: Insertable<OutboxTable>): Promise<void> {
  await db.insertInto('outbox').values(message).execute();
}

export function listOutboxMessages(db: Executor, filter: { channel?: 'sms' | 'email' | undefined; destination?: string | undefined; limit: number }): Promise<OutboxRow[]> {
  let query = db.selectFrom('outbox').selectAll();
  if (filter.channel !== undefined) query = query.where('channel', '=', filter.channel);
  if (filter.destination !== undefined) query = query.where('destination', '=', filter.destination);
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}
