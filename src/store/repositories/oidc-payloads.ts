// The OpenID Provider's rows (src/oidc/adapter.ts). A read never returns an expired row; consume
// is one conditional update, so of two concurrent redemptions of a code exactly one wins.
import type { Executor, OidcPayloadRow } from '../database.js';

export type OidcLookup = 'id' | 'uid' | 'user_code';

export async function upsertOidcPayload(db: Executor, row: OidcPayloadRow): Promise<void> {
  await db
    .insertInto('oidc_payloads')
    .values(row)
    .onConflict((conflict) =>
      conflict.columns(['kind', 'id']).doUpdateSet({ payload: row.payload, grant_id: row.grant_id, user_code: row.user_code, uid: row.uid, expires_at: row.expires_at, consumed_at: row.consumed_at }),
    )
    .execute();
}

export function findLiveOidcPayload(db: Executor, kind: string, by: OidcLookup, value: string, now: number): Promise<OidcPayloadRow | undefined> {
  return db
    .selectFrom('oidc_payloads')
    .selectAll()
    .where('kind', '=', kind)
    .where(by, '=', value)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
}

/** The row as stored, expired or consumed or not. */
export function findOidcPayload(db: Executor, kind: string, id: string): Promise<OidcPayloadRow | undefined> {
  return db.selectFrom('oidc_payloads').selectAll().where('kind', '=', kind).where('id', '=', id).executeTakeFirst();
}

/** True for the one caller that consumed the row; false when it was already consumed, expired or absent. */
export async function consumeOidcPayload(db: Executor, kind: string, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('oidc_payloads')
    .set({ consumed_at: now })
    .where('kind', '=', kind)
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** True when a row was deleted. */
export async function deleteOidcPayload(db: Executor, kind: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('oidc_payloads').where('kind', '=', kind).where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Every row of a grant, whatever its kind (a replayed code revokes the tokens it gave). */
export async function deleteOidcPayloadsOfGrant(db: Executor, grantId: string): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
}

export function listOidcPayloads(db: Executor, kind: string): Promise<OidcPayloadRow[]> {
  return db.selectFrom('oidc_payloads').selectAll().where('kind', '=', kind).orderBy('id').execute();
}

/** Deletes one batch of the oldest expired rows (an index range on expires_at); the caller repeats while a batch comes back full. */
export async function deleteExpiredOidcPayloads(db: Executor, before: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom('oidc_payloads')
    .where((eb) =>
      eb(
        eb.refTuple('kind', 'id'),
        'in',
        eb.selectFrom('oidc_payloads').select(['kind', 'id']).where('expires_at', '<', before).orderBy('expires_at').limit(limit).$asTuple('kind', 'id'),
      ),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
