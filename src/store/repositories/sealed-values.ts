// Every column that holds a secretbox envelope, seen alike: for counting values per encryption key
// and re-sealing them under a new one. Envelopes are matched by their prefix ("v1.<kid>.", from
// the secretbox) with substr rather than LIKE, because a key id may contain "_", which LIKE
// would read as a wildcard. The update is a compare-and-set on the old ciphertext, so a value
// another writer changed meanwhile is never overwritten with one sealed from stale plaintext.
// Not listed: refresh_tokens.grace_answer_ciphertext, which lives for the refresh reuse grace (at
// most a minute) and is wiped, not re-sealed; one that no configured key opens counts as reuse.
import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../database.js';
import { forgetKeptClientRows } from './oidc-client-rows-cache.js';

/** The sealed columns, by table; `owner` is the extra AAD id (the user of a TOTP factor). */
const sealedColumns = {
  factors: { id: 'id', owner: 'user_id', ciphertext: 'secret_ciphertext' },
  signing_keys: { id: 'kid', owner: null, ciphertext: 'private_ciphertext' },
  server_secrets: { id: 'name', owner: null, ciphertext: 'ciphertext' },
  outbox: { id: 'id', owner: null, ciphertext: 'content_ciphertext' },
  // Only an OpenID Provider client's row has one; its id is the client id.
  oidc_payloads: { id: 'id', owner: null, ciphertext: 'sealed_secret' },
} as const;

export type SealedTable = keyof typeof sealedColumns;
export const sealedTables = Object.keys(sealedColumns) as SealedTable[];

/** A zero for every sealed table, to count into. */
export function zeroPerSealedTable(): Record<SealedTable, number> {
  return Object.fromEntries(sealedTables.map((table) => [table, 0])) as Record<SealedTable, number>;
}

export interface SealedValueRow {
  /** The row's key: factor id, signing key kid, server secret name, outbox message id, or OIDC client id. */
  id: string;
  /** The user id, for factors; null elsewhere. */
  ownerId: string | null;
  ciphertext: string;
}

/** Sealed values whose envelope starts with none of `prefixes`, in id order after `afterId`. */
export async function listSealedValuesOutside(
  db: Executor,
  table: SealedTable,
  prefixes: readonly string[],
  options: { afterId?: string | undefined; limit: number },
): Promise<SealedValueRow[]> {
  const columns = sealedColumns[table];
  const owner = columns.owner === null ? sql`null` : sql.ref(columns.owner);
  const after = options.afterId === undefined ? sql`` : sql` and ${sql.ref(columns.id)} > ${options.afterId}`;
  const result = await sql<{ id: string; owner_id: string | null; ciphertext: string }>`
    select ${sql.ref(columns.id)} as id, ${owner} as owner_id, ${sql.ref(columns.ciphertext)} as ciphertext
    from ${sql.table(table)}
    where ${sql.ref(columns.ciphertext)} is not null${notStartingWithAny(columns.ciphertext, prefixes)}${after}
    order by ${sql.ref(columns.id)}
    limit ${sql.lit(options.limit)}`.execute(db);
  return result.rows.map((row) => ({ id: row.id, ownerId: row.owner_id, ciphertext: row.ciphertext }));
}

export async function countSealedValuesWithPrefix(db: Executor, table: SealedTable, prefix: string): Promise<number> {
  const column = sealedColumns[table].ciphertext;
  const result = await sql<{ count: number | string }>`
    select count(*) as count from ${sql.table(table)}
    where ${startsWith(column, prefix)}`.execute(db);
  return Number(result.rows[0]?.count ?? 0);
}

/** Sealed values whose envelope starts with none of `prefixes`. */
export async function countSealedValuesOutside(db: Executor, table: SealedTable, prefixes: readonly string[]): Promise<number> {
  const column = sealedColumns[table].ciphertext;
  const result = await sql<{ count: number | string }>`
    select count(*) as count from ${sql.table(table)}
    where ${sql.ref(column)} is not null${notStartingWithAny(column, prefixes)}`.execute(db);
  return Number(result.rows[0]?.count ?? 0);
}

/** Replaces `expected` by `next`; false when the row is gone or holds something else by now. */
export async function replaceSealedValue(db: Executor, table: SealedTable, id: string, expected: string, next: string): Promise<boolean> {
  const columns = sealedColumns[table];
  const result = await sql`
    update ${sql.table(table)} set ${sql.ref(columns.ciphertext)} = ${next}
    where ${sql.ref(columns.id)} = ${id} and ${sql.ref(columns.ciphertext)} = ${expected}`.execute(db);
  // A client's sealed secret is part of its kept row (oidc-client-rows-cache.ts).
  if (table === 'oidc_payloads') forgetKeptClientRows();
  return result.numAffectedRows === 1n;
}

function startsWith(column: string, prefix: string): RawBuilder<unknown> {
  return sql`substr(${sql.ref(column)}, 1, ${sql.lit(prefix.length)}) = ${prefix}`;
}

function notStartingWithAny(column: string, prefixes: readonly string[]): RawBuilder<unknown> {
  return sql.join(
    prefixes.map((prefix) => sql` and not (${startsWith(column, prefix)})`),
    sql``,
  );
}
