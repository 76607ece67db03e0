// `twofold audit`: the security events of the audit trail, filtered, newest first, paged with
// --before; `twofold audit prune` runs the upkeep (retention, per-user caps) now.
import { TwofoldError } from '../../errors.js';
import { findUserByIdOrUsername } from '../../flows/account/admin.js';
import { enforceAuditCapOfEveryUser } from '../../flows/audit/audit-caps.js';
import { listSecurityEvents } from '../../store/repositories/security-events.js';
import { printJson, printLines, printTable } from '../output.js';
import { withTwofold } from './with-twofold.js';

export async function auditCommand(options: { user?: string; type?: string; since?: string; limit: number; before?: string; json?: boolean }): Promise<void> {
  const since = options.since === undefined ? undefined : Date.parse(options.since);
  if (since !== undefined && Number.isNaN(since)) throw new TwofoldError('invalid_request', `--since: not a date: ${options.since}`);
  await withTwofold(async (twofold) => {
    await twofold.context.auditTrail.flush();
    const userId = options.user === undefined ? undefined : (await findUserByIdOrUsername(twofold.context, options.user)).id;
    const rows = await listSecurityEvents(twofold.database.db, { userId, type: options.type, since, before: options.before, limit: options.limit });
    const events = rows.map((row) => ({
      id: row.id,
      at: new Date(row.created_at).toISOString(),
      count: row.repeat_count,
      type: row.type,
      user_id: row.user_id,
      session_id: row.session_id,
      ip: row.ip,
      details: row.details === null ? {} : (JSON.parse(row.details) as Record<string, unknown>),
    }));
    if (options.json === true) return printJson(events);
    printTable(events.map(({ details, ...rest }) => ({ ...rest, details: JSON.stringify(details) })));
  });
}

export async function auditPruneCommand(): Promise<void> {
  await withTwofold(async (twofold) => {
    const report = await twofold.maintenance.runOnce();
    // The cap of every user, not only of those whose trail grew in this process (none did).
    const overCap = await enforceAuditCapOfEveryUser(twofold.context);
    const days = twofold.config.audit.retentionDays;
    printLines(
      `${days === 0 ? 'retention is off (TWOFOLD_AUDIT_RETENTION_DAYS=0): no event removed for its age' : `removed ${report.auditEventsExpired} event(s) older than ${days} days`}; ` +
        `${report.auditEventsOverCap + overCap} beyond TWOFOLD_AUDIT_EVENTS_PER_USER; ${report.sessionsRetired} timed-out session(s) retired`,
    );
  });
}
