// Signing keys. Exactly one is current (the newest unretired); retired ones stay for
// verification until every token they signed has expired.
import type { Insertable } from 'kysely';
import type { Executor, SigningKeyRow, SigningKeysTable } from '../database.js';

export function listSigningKeys(db: Executor): Promise<SigningKeyRow[]> {
  return db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid').execute();
}

export async function insertSigningKey(db: Executor, key: Insertable<SigningKeysTable>): Promise<void> {
  await db.insertInto('signing_keys').values(key).execute();
}

export async function retireSigningKeysExcept(db: Executor, currentKid: string, now: number): Promise<void> {
  await db.updateTable('signing_keys').set({ retired_at: now }).where('kid', '!=', currentKid).where('retired_at', 'is', null).execute();
}
