// The audit trail: inserted, listed, a coalesced row's count raised; deleted only by retention
// and by the per-user caps, always in small batches through an index (each query here has its
// EXPLAIN in test/store/query-plans.test.ts).
import { sql, type Insertable } from 'kysely';
import type { AuditCapGroup, Executor, SecurityEventRow, SecurityEventsTable } from '../database.js';

/** Several events in one statement: one transaction, so one disk sync for the whole batch. */
export async function insertSecurityEvents(db: Executor, events: Array<Insertable<SecurityEventsTable>>): Promise<void> {
  if (events.length > 0) await db.insertInto('security_events').values(events).execute();
}

/** More repeats of an event already written (coalescing): its count grows, its last time moves. */
export async function addSecurityEventRepeats(db: Executor, id: string, repeats: number, lastAt: number): Promise<void> {
  await db
    .updateTable('security_events')
    .set((eb) => ({ repeat_count: eb('repeat_count', '+', repeats), last_at: lastAt }))
    .where('id', '=', id)
    .execute();
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

/** Up to `limit` ids of events older than `before`, oldest first (index security_events_created). */
export function expiredSecurityEventsQuery(db: Executor, before: number, limit: number) {
  return db.selectFrom('security_events').select('id').where('created_at', '<', before).orderBy('created_at').limit(limit);
}

/** Deletes one batch of events older than `before`; the caller repeats while a batch comes back full. */
export async function deleteSecurityEventsBefore(db: Executor, before: number, limit: number): Promise<number> {
  const result = await db.deleteFrom('security_events').where('id', 'in', expiredSecurityEventsQuery(db, before, limit)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

// Nobody's bucket is read along security_events_nobody_cap, whose predicate this spells out.
const whereOwner = (userId: string | null) => (userId === null ? sql<boolean>`user_id is null` : sql<boolean>`user_id = ${userId}`);

/**
 * The newest event of the user's group that falls outside the cap (the (keep + 1)-th newest), if
 * any: everything from it back is beyond the cap. Walks `keep` entries of (user_id, cap_group, id).
 */
export function firstEventBeyondCapQuery(db: Executor, userId: string | null, group: AuditCapGroup, keep: number) {
  return db.selectFrom('security_events').select('id').where(whereOwner(userId)).where('cap_group', '=', group).orderBy('id', 'desc').limit(1).offset(keep);
}

export async function findFirstEventBeyondCap(db: Executor, userId: string | null, group: AuditCapGroup, keep: number): Promise<string | undefined> {
  return (await firstEventBeyondCapQuery(db, userId, group, keep).executeTakeFirst())?.id;
}

/** Up to `limit` ids of the user's group at or before `throughId`, oldest first. */
export function eventsBeyondCapQuery(db: Executor, userId: string | null, group: AuditCapGroup, throughId: string, limit: number) {
  return db.selectFrom('security_events').select('id').where(whereOwner(userId)).where('cap_group', '=', group).where('id', '<=', throughId).orderBy('id').limit(limit);
}

/** Deletes one batch of the user's events beyond the cap (through `throughId`, oldest first). */
export async function deleteEventsBeyondCap(db: Executor, userId: string | null, group: AuditCapGroup, throughId: string, limit: number): Promise<number> {
  const result = await db.deleteFrom('security_events').where('id', 'in', eventsBeyondCapQuery(db, userId, group, throughId, limit)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The operator's view (`twofold audit`): newest first, paged backwards by id. */
export function securityEventsPageQuery(db: Executor, filter: { userId?: string | undefined; type?: string | undefined; since?: number | undefined; before?: string | undefined; limit: number }) {
  let query = db.selectFrom('security_events').selectAll();
  if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
  if (filter.type !== undefined) query = query.where('type', '=', filter.type);
  if (filter.since !== undefined) query = query.where('created_at', '>=', filter.since);
  if (filter.before !== undefined) query = query.where('id', '<', filter.before);
  return query.orderBy('id', 'desc').limit(filter.limit);
}

export function listSecurityEvents(db: Executor, filter: { userId?: string | undefined; type?: string | undefined; since?: number | undefined; before?: string | undefined; limit: number }): Promise<SecurityEventRow[]> {
  return securityEventsPageQuery(db, filter).execute();
}
