// The development outbox: messages that would have been sent by SMS or e-mail, for people
// trying Twofold out (`twofold outbox`) and for tests. Rows hold the content sealed (see
// src/delivery/outbox.ts); production refuses this provider.
import type { Insertable } from 'kysely';
import type { Executor, OutboxRow, OutboxTable } from '../database.js';

export async function insertOutboxMessage(db: Executor, message: Insertable<OutboxTable>): Promise<void> {
  await db.insertInto('outbox').values(message).execute();
}

/** Deletes the messages that stopped mattering at or before `now`; returns how many. */
export async function deleteExpiredOutboxMessages(db: Executor, now: number): Promise<number> {
  const result = await db.deleteFrom('outbox').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export function listOutboxMessages(db: Executor, filter: { channel?: 'sms' | 'email' | undefined; destination?: string | undefined; limit: number }): Promise<OutboxRow[]> {
  let query = db.selectFrom('outbox').selectAll();
  if (filter.channel !== undefined) query = query.where('channel', '=', filter.channel);
  if (filter.destination !== undefined) query = query.where('destination', '=', filter.destination);
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}
