// Remembered browsers: a device token (stored as SHA-256) bound to one user, expiring, revocable.
import type { Insertable } from 'kysely';
import type { Executor, TrustedDeviceRow, TrustedDevicesTable } from '../database.js';

export async function insertTrustedDevice(db: Executor, device: Insertable<TrustedDevicesTable>): Promise<void> {
  await db.insertInto('trusted_devices').values(device).execute();
}

/** Built apart so a test can EXPLAIN it (the unique index on token_hash). */
export function trustedDeviceByHashQuery(db: Executor, tokenHash: string) {
  return db.selectFrom('trusted_devices').selectAll().where('token_hash', '=', tokenHash);
}

export function findTrustedDeviceByHash(db: Executor, tokenHash: string): Promise<TrustedDeviceRow | undefined> {
  return trustedDeviceByHashQuery(db, tokenHash).executeTakeFirst();
}

/**
 * A page of the user's live remembered browsers, newest first in the strict order (created_at, id),
 * along the index trusted_devices_user_created without a sort; built apart so a test can EXPLAIN it.
 */
export function liveTrustedDevicesPageQuery(db: Executor, userId: string, now: number, page: { limit: number; before?: { createdAt: number; id: string } | undefined }) {
  const query = db.selectFrom('trusted_devices').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).where('expires_at', '>', now);
  const before = page.before;
  const paged = before === undefined ? query : query.where(({ eb, refTuple, tuple }) => eb(refTuple('created_at', 'id'), '<', tuple(before.createdAt, before.id)));
  return paged.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit);
}

export function listLiveTrustedDevices(db: Executor, userId: string, now: number, page: { limit: number; before?: { createdAt: number; id: string } | undefined }): Promise<TrustedDeviceRow[]> {
  return liveTrustedDevicesPageQuery(db, userId, now, page).execute();
}

export async function touchTrustedDevice(db: Executor, deviceId: string, now: number): Promise<boolean> {
  const result = await db.updateTable('trusted_devices').set({ last_used_at: now }).where('id', '=', deviceId).where('revoked_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function revokeTrustedDevice(db: Executor, userId: string, deviceId: string, now: number): Promise<boolean> {
  const result = await db.updateTable('trusted_devices').set({ revoked_at: now }).where('id', '=', deviceId).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function revokeTrustedDevicesOfUser(db: Executor, userId: string, now: number): Promise<number> {
  const result = await db.updateTable('trusted_devices').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}
