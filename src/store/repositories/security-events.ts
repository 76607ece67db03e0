// The audit trail: inserted, listed — never updated or deleted.
import type { Insertable } from 'kysely';
import type { Executor, SecurityEventRow, SecurityEventsTable } from '../database.js';

export async function insertSecurityEvent(db: Executor, event: Insertable<SecurityEventsTable>): Promise<void> {
  await db.insertInto('security_events').values(event).execute();
}

export function listSecurityEventsOfUser(db: Executor, userId: string, limit: number): Promise<SecurityEventRow[]> {
  return db.selectFrom('security_events').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export function listSecurityEvents(db: Executor, filter: { userId?: string | undefined; type?: string | undefined; since?: number | undefined; limit: number }): Promise<SecurityEventRow[]> {
  let query = db.selectFrom('security_events').selectAll();
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
  if (filter.type !== undefined) query = query.where('type', '=', filter.type);
  if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}
