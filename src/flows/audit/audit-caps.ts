// Keeping the audit trail bounded (see audit-trail.ts): retention by age and a cap per user and
// group, both deleted in batches of a few hundred rows through an index, with a turn of the event
// loop between batches — so pruning a year of events or a flood of a million never holds the
// requests (and /healthz) that run beside it.
import type { Kysely } from 'kysely';
import type { AuditCapGroup, Database } from '../../store/database.js';
import { deleteEventsBeyondCap, deleteSecurityEventsBefore, findFirstEventBeyondCap } from '../../store/repositories/security-events.js';
import { usersPageQuery } from '../../store/repositories/users.js';
import type { AuditTrail } from './audit-trail.js';
import { runInBatches, yieldToEventLoop } from '../shared/batches.js';

interface AuditUpkeepContext {
  config: { audit: { retentionDays: number; maxEventsPerUser: number } };
  db: Kysely<Database>;
  now(): number;
}

/** The groups a cap applies to; 'kept' rows go only by retention. */
export const cappedGroups: readonly AuditCapGroup[] = ['own', 'others', 'routine'];

/**
 * Events about nobody (an unknown username, a throttled address) form one bucket with a cap this
 * many times a user's: coalesced per address, they still cannot grow the table without bound.
 */
export const nobodyCapFactor = 100;

/** Drops events older than TWOFOLD_AUDIT_RETENTION_DAYS (0 keeps them forever), in batches. */
export async function pruneAuditTrail(ctx: AuditUpkeepContext, options: { maxBatches?: number } = {}): Promise<number> {
  if (ctx.config.audit.retentionDays === 0) return 0;
  const before = ctx.now() - ctx.config.audit.retentionDays * 86_400_000;
  return runInBatches((limit) => deleteSecurityEventsBefore(ctx.db, before, limit), options);
}

/** Holds one user's (or nobody's) capped groups to TWOFOLD_AUDIT_EVENTS_PER_USER newest rows each. */
export async function enforceAuditCapOf(ctx: AuditUpkeepContext, owner: string | null): Promise<number> {
  const perUser = ctx.config.audit.maxEventsPerUser;
  if (perUser === 0) return 0;
  const keep = owner === null ? perUser * nobodyCapFactor : perUser;
  let removed = 0;
  for (const group of cappedGroups) {
    const through = await findFirstEventBeyondCap(ctx.db, owner, group, keep);
    if (through === undefined) continue;
    removed += await runInBatches((limit) => deleteEventsBeyondCap(ctx.db, owner, group, through, limit));
    await yieldToEventLoop();
  }
  return removed;
}

/**
 * The cap for every user whose trail grew since the last run; after more grew than were tracked,
 * for every user.
 */
export async function enforceAuditCaps(ctx: AuditUpkeepContext & { auditTrail: AuditTrail }): Promise<number> {
  await ctx.auditTrail.flush();
  const grown = ctx.auditTrail.takeGrownOwners();
  if (ctx.config.audit.maxEventsPerUser === 0) return 0;
  if (grown.overflowed) return enforceAuditCapOfEveryUser(ctx);
  let removed = 0;
  for (const owner of grown.owners) {
    removed += await enforceAuditCapOf(ctx, owner);
    await yieldToEventLoop();
  }
  return removed;
}

/** The cap of nobody's bucket and of every user, walked by id a page at a time. */
export async function enforceAuditCapOfEveryUser(ctx: AuditUpkeepContext): Promise<number> {
  if (ctx.config.audit.maxEventsPerUser === 0) return 0;
  let removed = await enforceAuditCapOf(ctx, null);
  let after: string | undefined;
  for (;;) {
    const users = await usersPageQuery(ctx.db, { limit: 200, after }).clearSelect().select('id').execute();
    for (const user of users) removed += await enforceAuditCapOf(ctx, user.id);
    const last = users.at(-1);
    if (last === undefined || users.length < 200) return removed;
    after = last.id;
    await yieldToEventLoop();
  }
}
