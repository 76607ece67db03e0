// The admin user export: every user a search's filters match, as one CSV file streamed page by
// page (keyset pages of the search's own index order, so a million rows cost what a thousand do
// per page and the server never holds the file). It is a read — support may export — but a bulk
// one of personal data: it takes a typed reason and is one audit event on the exporting admin's
// account, naming the filters, recorded before the first row leaves. Cells are neutralized
// against spreadsheet formula injection (core/text/csv-cell.ts): usernames and e-mails come from
// people and from imported files, never from the operator.
import { csvLine } from '../core/text/csv-cell.js';
import type { FlowContext } from '../flows/shared/context.js';
import { searchUserRows, type UserSearchPosition } from '../store/repositories/admin-user-search.js';
import type { AdminActor } from './admin-actor.js';
import { adminAudit, checkReason } from './actions/admin-write.js';
import { parseAdminUserQuery, toAdminUserSummaries, type AdminUserQuery, type AdminUserSummary } from './user-search.js';

export type AdminExportFilters = Omit<AdminUserQuery, 'limit' | 'after'>;

export const adminExportColumns = [
  'id',
  'username',
  'email',
  'email_verified',
  'phone',
  'created_at',
  'last_sign_in_at',
  'locked',
  'disabled',
  'roles',
  'factor_types',
  'delete_after',
] as const satisfies ReadonlyArray<keyof AdminUserSummary>;

/** Rows fetched per page while streaming. */
const exportPageSize = 500;

function lineOf(user: AdminUserSummary): string {
  return csvLine(adminExportColumns.map((column) => {
    const value = user[column];
    return Array.isArray(value) ? value.join(' ') : value;
  }));
}

/**
 * Checks the filters and the reason and records the export (so a refusal is an error, never a
 * half-written file), then returns the CSV's lines: the header, then one line per user.
 */
export function exportUsers(ctx: FlowContext, actor: AdminActor, filters: AdminExportFilters, reason: unknown): AsyncIterable<string> {
  const { filter, order } = parseAdminUserQuery({ ...filters, limit: 1 });
  const checkedReason = checkReason(reason);
  const recordedFilters = Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined));
  ctx.events.record({
    type: 'admin.users_exported',
    userId: actor.auth.user.id,
    details: { ...adminAudit(actor, checkedReason), filters: JSON.stringify(recordedFilters) },
  });
  return (async function* lines() {
    yield csvLine(adminExportColumns);
    let after: UserSearchPosition | undefined;
    for (;;) {
      const rows = await searchUserRows(ctx.db, filter, { order: after?.order ?? order, limit: exportPageSize, after });
      for (const user of await toAdminUserSummaries(ctx, rows)) yield lineOf(user);
      const last = rows.at(-1);
      if (rows.length < exportPageSize || last === undefined) return;
      after = last.position;
    }
  })();
}
