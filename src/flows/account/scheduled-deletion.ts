// Accounts an admin deleted wait TWOFOLD_ADMIN_DELETE_GRACE_DAYS (disabled: no sign-in, no reset,
// no token works) so a mistaken or malicious deletion can be cancelled; the upkeep then deletes
// them — their factors, sessions, codes and roles go with the row (ON DELETE CASCADE). The audit
// trail keeps its events (they name the user by id only) until its retention.
import { deleteUsersPastGrace } from '../../store/repositories/users.js';
import { runInBatches } from '../shared/batches.js';
import type { FlowContext } from '../shared/context.js';

export async function deleteAccountsPastGrace(ctx: FlowContext): Promise<number> {
  const now = ctx.now();
  return runInBatches(async (limit) => {
    const deleted = await deleteUsersPastGrace(ctx.db, now, limit);
    for (const userId of deleted) ctx.events.record({ type: 'admin.user_deleted', userId, details: { grace_ended: true } });
    return deleted.length;
  });
}
