// The audit trail: inserted, listed — never updated or deleted.
import type { Insertable } from 'kysely';
import type { Executor, SecurityEventRow, SecurityEventsTable } from '../database.js';

/** Several events in one statement: one transaction, so one disk sync for the whole batch. */
export async function insertSecurityEvents(db: Executor, events: Array<Insertable<SecurityEventsTable>>): Promise<void> {
  if (events.length > 0) await db.insertInto('security_events').values(events).execute();
}

/**
 * Newest first; ids sort like the events happened and are unique, so `before` (an id) pages
 * backwards strictly — a page boundary among events of one millisecond neither repeats nor skips
 * one. Served by the index (user_id, id) without a sort; built apart so a test can EXPLAIN it.
 */
export function securityEventsOfUserPageQuery(db: Executor, userId: string, page: { limit: number; before?: string | undefined }) {
  const query = db.selectFrom('security_events').selectAll().where('user_id', '=', userId);
  return (page.before === undefined ? query : query.where('id', '<', page.before)).orderBy('id', 'desc').limit(page.limit);
}

export function listSecurityEventsOfUser(db: Executor, userId: string, page: { limit: number; before?: string | undefined }): Promise<SecurityEventRow[]> {
  return securityEventsOfUserPageQuery(db, userId, page).execute();
}

export async function deleteSecurityEventsBefore(db: Executor, before: number): Promise<number> {
  const result = await db.deleteFrom('security_events').where('created_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export function listSecurityEvents(db: Executor, filter: { userId?: string | undefined; type?: string | undefined; since?: number | undefined; limit: number }): Promise<SecurityEventRow[]> {
  let query = db.selectFrom('security_events').selectAll();
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
  if (filter.type !== undefined) query = query.where('type', '=', filter.type);
  if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
  return query.orderBy('id', 'desc').limit(filter.limit).execute();
}
