// The single-instance lease (one row per lease name): who holds it and until when (wall-clock ms).
import type { Executor, InstanceLeasesTable } from '../database.js';

export type InstanceLease = InstanceLeasesTable;

/** Takes the lease when it is free or has lapsed; returns the lease as it stands afterwards. */
export async function acquireInstanceLease(db: Executor, lease: InstanceLease, now: number): Promise<InstanceLease | undefined> {
  await db
    .insertInto('instance_leases')
    .values(lease)
    .onConflict((conflict) => conflict.column('name').doUpdateSet({ holder: lease.holder, host: lease.host, pid: lease.pid, expires_at: lease.expires_at }).where('instance_leases.expires_at', '<=', now))
    .execute();
  return db.selectFrom('instance_leases').selectAll().where('name', '=', lease.name).executeTakeFirst();
}

/** Takes the lease over from one known holder (whose process is known to be gone). */
export async function replaceInstanceLease(db: Executor, lease: InstanceLease, previousHolder: string): Promise<boolean> {
  const result = await db
    .updateTable('instance_leases')
    .set({ holder: lease.holder, host: lease.host, pid: lease.pid, expires_at: lease.expires_at })
    .where('name', '=', lease.name)
    .where('holder', '=', previousHolder)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Extends a lease this holder still holds; false when another took it over. */
export async function renewInstanceLease(db: Executor, input: { name: string; holder: string; expiresAt: number }): Promise<boolean> {
  const result = await db.updateTable('instance_leases').set({ expires_at: input.expiresAt }).where('name', '=', input.name).where('holder', '=', input.holder).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function releaseInstanceLease(db: Executor, input: { name: string; holder: string }): Promise<void> {
  await db.deleteFrom('instance_leases').where('name', '=', input.name).where('holder', '=', input.holder).execute();
}
