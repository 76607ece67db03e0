// The OpenID Provider's rows (src/oidc/adapter.ts). A read never returns an expired row; consume
// is one conditional update, so of two concurrent redemptions of a code exactly one wins.
import type { Executor, OidcPayloadRow } from '../database.js';
import { prepareQuery } from '../prepared-query.js';
import { currentClientRowsGeneration, forgetKeptClientRows, keepClientRow, keptClientRow } from './oidc-client-rows-cache.js';

export type OidcLookup = 'id' | 'uid' | 'user_code';

/** A row as the provider's side writes it: a client's sealed secret is still a field of its JSON. */
export type OidcPayloadWrite = Omit<OidcPayloadRow, 'sealed_secret'>;

/**
 * A client's sealed secret lives in its own column (re-sealed by key rotation like every sealed
 * value, sealed-values.ts); above this file it is the JSON field it always was.
 */
const sealedSecretField = 'twofold_client_secret_sealed';

function splitSealedSecret(row: OidcPayloadWrite): OidcPayloadRow {
  if (row.kind !== 'Client') return { ...row, sealed_secret: null };
  const { [sealedSecretField]: sealed, ...rest } = JSON.parse(row.payload) as Record<string, unknown>;
  return { ...row, payload: JSON.stringify(rest), sealed_secret: typeof sealed === 'string' ? sealed : null };
}

function joinSealedSecret(row: OidcPayloadRow | undefined): OidcPayloadRow | undefined {
  if (row === undefined || row.sealed_secret === null) return row;
  return { ...row, payload: JSON.stringify({ ...(JSON.parse(row.payload) as Record<string, unknown>), [sealedSecretField]: row.sealed_secret }) };
}

const clientKind = 'Client';

export async function upsertOidcPayload(db: Executor, write: OidcPayloadWrite): Promise<void> {
  const row = splitSealedSecret(write);
  await db
    .insertInto('oidc_payloads')
    .values(row)
    .onConflict((conflict) =>
      conflict
        .columns(['kind', 'id'])
        .doUpdateSet({ payload: row.payload, grant_id: row.grant_id, user_code: row.user_code, uid: row.uid, expires_at: row.expires_at, consumed_at: row.consumed_at, sealed_secret: row.sealed_secret }),
    )
    .execute();
  // After the write: a read that began before it ends in an older generation and is not kept.
  if (row.kind === clientKind) forgetKeptClientRows();
}

// Every request through the provider reads several rows (the token, its client, its grant, its
// session): compiled once (prepared-query.ts) instead of built by Kysely on each read.
const liveOidcPayloadBy = (by: OidcLookup) =>
  prepareQuery<OidcPayloadRow>((db) =>
    db
      .selectFrom('oidc_payloads')
      .selectAll()
      .where('kind', '=', '')
      .where(by, '=', '')
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', 0)])),
  );
const liveOidcPayloadQueries: Record<OidcLookup, ReturnType<typeof liveOidcPayloadBy>> = { id: liveOidcPayloadBy('id'), uid: liveOidcPayloadBy('uid'), user_code: liveOidcPayloadBy('user_code') };

export async function findLiveOidcPayload(db: Executor, kind: string, by: OidcLookup, value: string, now: number): Promise<OidcPayloadRow | undefined> {
  // A client's row is kept in memory for a moment (oidc-client-rows-cache.ts).
  const isClient = kind === clientKind && by === 'id';
  if (isClient) {
    const kept = keptClientRow(db, value, now);
    if (kept !== undefined) return kept;
  }
  const readGeneration = currentClientRowsGeneration();
  const row = joinSealedSecret((await liveOidcPayloadQueries[by](db, [kind, value, now]))[0]);
  if (isClient && row !== undefined) keepClientRow(db, value, row, readGeneration);
  return row;
}

/** The row as stored, expired or consumed or not. */
export async function findOidcPayload(db: Executor, kind: string, id: string): Promise<OidcPayloadRow | undefined> {
  return joinSealedSecret(await db.selectFrom('oidc_payloads').selectAll().where('kind', '=', kind).where('id', '=', id).executeTakeFirst());
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
  if (kind === clientKind) forgetKeptClientRows();
  return result.numDeletedRows > 0n;
}

/** Grants and what the provider made under them: every row of theirs (codes, tokens) and the grant rows themselves. */
export async function deleteOidcGrantRows(db: Executor, grantIds: readonly string[]): Promise<void> {
  if (grantIds.length === 0) return;
  await db.deleteFrom('oidc_payloads').where('grant_id', 'in', grantIds).execute();
  await db.deleteFrom('oidc_payloads').where('kind', '=', 'Grant').where('id', 'in', grantIds).execute();
}

/** Every row of a grant, whatever its kind (a replayed code revokes the tokens it gave). */
export async function deleteOidcPayloadsOfGrant(db: Executor, grantId: string): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
}

export async function listOidcPayloads(db: Executor, kind: string): Promise<OidcPayloadRow[]> {
  const rows = await db.selectFrom('oidc_payloads').selectAll().where('kind', '=', kind).orderBy('id').execute();
  return rows.map((row) => joinSealedSecret(row)!);
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
