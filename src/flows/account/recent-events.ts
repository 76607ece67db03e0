// A person's recent security events, for the account page and GET /v1/events: what happened,
// when and from where — the same rows as the audit trail, never a secret.
import type { SecurityEventRow } from '../../store/database.js';
import { listSecurityEventsOfUser } from '../../store/repositories/security-events.js';
import type { AccessAuthentication } from '../sessions/authenticate.js';
import type { FlowContext } from '../shared/context.js';
import { isoTime } from '../shared/views.js';

export interface SecurityEventView {
  id: string;
  type: string;
  created_at: string;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  /** Identical events close together are one entry (coalesced): how many, and when the last was. */
  count: number;
  last_at: string | null;
}

export async function listOwnSecurityEvents(ctx: FlowContext, auth: AccessAuthentication, page: { limit: number; before?: string | undefined }): Promise<SecurityEventView[]> {
  await ctx.auditTrail.flush();
  const rows = await listSecurityEventsOfUser(ctx.db, auth.user.id, page);
  return rows.map(toSecurityEventView);
}

export function toSecurityEventView(row: SecurityEventRow): SecurityEventView {
  return {
    id: row.id,
    type: row.type,
    created_at: isoTime(row.created_at),
    ip: row.ip,
    user_agent: row.user_agent,
    details: row.details === null ? {} : (JSON.parse(row.details) as Record<string, unknown>),
    count: row.repeat_count,
    last_at: row.last_at === null ? null : isoTime(row.last_at),
  };
}
