// The background upkeep that keeps every table bounded by time and by others' actions, run every
// TWOFOLD_MAINTENANCE_INTERVAL_SECONDS by each instance (each job is idempotent, so instances that
// run it together only repeat a little work) and at once by `twofold audit prune`:
// - timed-out sessions retired (session-retirer.ts);
// - the audit trail's per-user caps and retention (audit-caps.ts);
// - long-ended sessions deleted (their refresh tokens and challenges with them), and expired
//   challenges, password-reset codes, remembered browsers, refresh tokens and outbox messages;
// - the OpenID Provider's expired rows (codes, sessions, grants, interactions, tokens);
// - accounts an admin deleted, once their grace period ended (account/scheduled-deletion.ts).
// Every job works in batches of a few hundred rows with a turn of the event loop between them
// (batches.ts). Runs never overlap; the timer never keeps the process alive.
import { deleteEndedSessionsBefore } from '../../store/repositories/sessions.js';
import { deleteExpiredRows, expiringTables, type ExpiringTable } from '../../store/repositories/expired-rows.js';
import { deleteExpiredOidcPayloads } from '../../store/repositories/oidc-payloads.js';
import { enforceAuditCaps, pruneAuditTrail } from '../audit/audit-caps.js';
import { runInBatches } from '../shared/batches.js';
import type { FlowContext } from '../shared/context.js';
import { retireTimedOutSessions } from '../sessions/session-retirer.js';
import { deleteAccountsPastGrace } from '../account/scheduled-deletion.js';

/**
 * How long an ended session's row stays: far longer than any of its access tokens can live (so the
 * revoked-session feed still carries it to a verifier that was away for days), short enough that
 * a user's logins do not pile up for ever.
 */
export const endedSessionRetentionMs = 7 * 86_400_000;

export interface MaintenanceReport {
  sessionsRetired: number;
  auditEventsOverCap: number;
  auditEventsExpired: number;
  endedSessionsDeleted: number;
  expiredRowsDeleted: Record<ExpiringTable, number>;
  oidcPayloadsDeleted: number;
  accountsDeleted: number;
}

export interface Maintenance {
  /** One full run now (or the run in progress). */
  runOnce(): Promise<MaintenanceReport>;
  start(): void;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

async function runMaintenance(ctx: FlowContext): Promise<MaintenanceReport> {
  const sessionsRetired = await retireTimedOutSessions(ctx);
  const auditEventsOverCap = await enforceAuditCaps(ctx);
  const auditEventsExpired = await pruneAuditTrail(ctx);
  const now = ctx.now();
  const endedSessionsDeleted = await runInBatches((limit) => deleteEndedSessionsBefore(ctx.db, now - endedSessionRetentionMs, limit));
  const expiredRowsDeleted = {} as Record<ExpiringTable, number>;
  for (const table of expiringTables) expiredRowsDeleted[table] = await runInBatches((limit) => deleteExpiredRows(ctx.db, table, now, limit));
  const oidcPayloadsDeleted = await runInBatches((limit) => deleteExpiredOidcPayloads(ctx.db, now, limit));
  const accountsDeleted = await deleteAccountsPastGrace(ctx);
  return { sessionsRetired, auditEventsOverCap, auditEventsExpired, endedSessionsDeleted, expiredRowsDeleted, oidcPayloadsDeleted, accountsDeleted };
}

export function createMaintenance(ctx: FlowContext, options: { intervalMs: number; onError(error: unknown): void }): Maintenance {
  let running: Promise<MaintenanceReport> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const runOnce = (): Promise<MaintenanceReport> => {
    running ??= runMaintenance(ctx).finally(() => {
      running = undefined;
    });
    return running;
  };
  return {
    runOnce,
    start() {
      if (timer !== undefined) return;
      timer = setInterval(() => void runOnce().catch(options.onError), options.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}
