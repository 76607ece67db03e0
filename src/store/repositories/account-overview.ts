// What GET /v1/me shows besides the session: the user's factors — only the columns a view shows,
// never a secret — and how many recovery codes are left, in one round trip (two for a user without
// a factor).
import type { Executor, FactorRow } from '../database.js';
import { prepareQuery } from '../prepared-query.js';
import { countUnusedRecoveryCodes } from './recovery-codes.js';

export const factorViewColumns = ['id', 'type', 'label', 'destination', 'status', 'created_at', 'activated_at', 'last_used_at'] as const satisfies ReadonlyArray<keyof FactorRow>;
export type FactorViewRow = Pick<FactorRow, (typeof factorViewColumns)[number]>;

type OverviewRow = { recovery_codes_remaining: number | string } & FactorViewRow;

/**
 * Exported for its EXPLAIN: the factors along factors_user_created in their order (no sort), the
 * count as a scalar subquery by recovery_codes_user_id. (A one-row derived table left-joined to the
 * factors, as before, made both databases sort the factors.)
 */
export const accountOverviewQuery = (db: Executor) =>
  db
    .selectFrom('factors')
    .select((eb) =>
      eb
        .selectFrom('recovery_codes')
        .select((count) => count.fn.countAll<number | string>().as('unused'))
        .where('recovery_codes.user_id', '=', '?')
        .where('recovery_codes.used_at', 'is', null)
        .as('recovery_codes_remaining'),
    )
    .select(factorViewColumns.map((column) => `factors.${column}` as const))
    .where('factors.user_id', '=', '?')
    .orderBy('factors.created_at')
    .orderBy('factors.id');
const overviewOfUser = prepareQuery<OverviewRow>(accountOverviewQuery);

export interface AccountOverview {
  factors: FactorViewRow[];
  recoveryCodesRemaining: number;
}

export async function readAccountOverview(db: Executor, userId: string): Promise<AccountOverview> {
  const rows = await overviewOfUser(db, [userId, userId]);
  const factors: FactorViewRow[] = rows.map((row) => ({ id: row.id, type: row.type, label: row.label, destination: row.destination, status: row.status, created_at: row.created_at, activated_at: row.activated_at, last_used_at: row.last_used_at }));
  // No factor (after an administrator's reset): no row to carry the count, so ask for it alone.
  // PostgreSQL returns count(*) as a bigint string.
  const first = rows[0];
  return { factors, recoveryCodesRemaining: first === undefined ? await countUnusedRecoveryCodes(db, userId) : Number(first.recovery_codes_remaining) };
}
