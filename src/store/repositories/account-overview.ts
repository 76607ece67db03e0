// What GET /v1/me shows besides the session: the user's factors — only the columns a view shows,
// never a secret — and how many recovery codes are left, in one round trip. The count is a
// one-row derived table left-joined to the factors, so a user without factors still gets it.
import type { Executor, FactorRow } from '../database.js';
import { prepareQuery } from '../prepared-query.js';

export const factorViewColumns = ['id', 'type', 'label', 'destination', 'status', 'created_at', 'activated_at', 'last_used_at'] as const satisfies ReadonlyArray<keyof FactorRow>;
export type FactorViewRow = Pick<FactorRow, (typeof factorViewColumns)[number]>;

type OverviewRow = { recovery_codes_remaining: number | string } & { [Column in keyof FactorViewRow]: FactorViewRow[Column] | null };

/** Exported for its EXPLAIN: the factors along factors_user_created (no sort), the codes by user. */
export const accountOverviewQuery = (db: Executor) =>
  db
    .selectFrom((eb) =>
      eb
        .selectFrom('recovery_codes')
        .select((count) => count.fn.countAll<number | string>().as('unused'))
        .where('user_id', '=', '?')
        .where('used_at', 'is', null)
        .as('recovery'),
    )
    .leftJoin('factors', (join) => join.on('factors.user_id', '=', '?'))
    .select('recovery.unused as recovery_codes_remaining')
    .select(factorViewColumns.map((column) => `factors.${column}` as const))
    .orderBy('factors.created_at')
    .orderBy('factors.id');
const overviewOfUser = prepareQuery<OverviewRow>(accountOverviewQuery);

export interface AccountOverview {
  factors: FactorViewRow[];
  recoveryCodesRemaining: number;
}

export async function readAccountOverview(db: Executor, userId: string): Promise<AccountOverview> {
  const rows = await overviewOfUser(db, [userId, userId]);
  const factors: FactorViewRow[] = [];
  for (const row of rows) {
    if (row.id === null) continue; // the count's row when the user has no factor
    factors.push({ id: row.id, type: row.type!, label: row.label, destination: row.destination, status: row.status!, created_at: row.created_at!, activated_at: row.activated_at, last_used_at: row.last_used_at });
  }
  // PostgreSQL returns count(*) as a bigint string.
  return { factors, recoveryCodesRemaining: Number(rows[0]?.recovery_codes_remaining ?? 0) };
}
