// What every admin action does first and last: the typed reason checked (3–500 characters, no
// control or bidi characters — it is shown to other admins and in the audit trail), the target
// found (404 otherwise), the actor's right over it (an admin target needs a superadmin, roles.ts),
// and after the change one security event naming the admin, the target and the reason (AD-01).
import { containsUnsafeCharacters } from '../../core/text/unsafe-characters.js';
import { TwofoldError } from '../../errors.js';
import type { UserRow } from '../../store/database.js';
import { rolesOfUser } from '../../store/repositories/user-roles.js';
import type { FlowContext } from '../../flows/shared/context.js';
import type { SecurityEventType } from '../../flows/shared/security-events.js';
import type { OperatorAudit } from '../../flows/account/admin.js';
import { requireRightOver, type AdminActor } from '../admin-actor.js';
import { mayWrite } from '../roles.js';
import { describeUserForAdmin, findAdminTarget, type AdminUserDetails } from '../user-details.js';

export const minReasonLength = 3;
export const maxReasonLength = 500;

export function checkReason(reason: unknown): string {
  if (typeof reason !== 'string') throw new TwofoldError('invalid_request', 'Give the reason for this action (`reason`, 3 to 500 characters).');
  const trimmed = reason.normalize('NFC').trim();
  const length = [...trimmed].length;
  if (length < minReasonLength || length > maxReasonLength) {
    throw new TwofoldError('invalid_request', `The reason must have ${minReasonLength} to ${maxReasonLength} characters (this one has ${length}).`);
  }
  if (containsUnsafeCharacters(trimmed.replace(/[\n\t]/g, ' '))) throw new TwofoldError('invalid_request', 'The reason contains control or direction-changing characters.');
  return trimmed;
}

export interface AdminWrite {
  target: UserRow;
  reason: string;
  /** The details every event of the action carries: who, why. */
  audit: OperatorAudit;
  /** The operator name the CLI's flows record (admin.ts). */
  operator: string;
}

export async function prepareAdminWrite(ctx: FlowContext, actor: AdminActor, userId: string, reason: unknown): Promise<AdminWrite> {
  // The actor came through requireAdmin; a read-only one must not write even if a caller mixed them up.
  if (!mayWrite(actor.roles)) throw new TwofoldError('forbidden', 'The support role only reads; this needs the admin role.');
  const checkedReason = checkReason(reason);
  const target = await findAdminTarget(ctx, userId);
  requireRightOver(actor, await rolesOfUser(ctx.db, target.id));
  return { target, reason: checkedReason, audit: adminAudit(actor, checkedReason), operator: `admin:${actor.auth.user.username}` };
}

/** Who acted and why, as every admin event records it. */
export function adminAudit(actor: AdminActor, checkedReason: string): OperatorAudit {
  const admin = actor.auth.user;
  return { admin_id: admin.id, admin_username: admin.username, admin_session_id: actor.auth.session.id, reason: checkedReason };
}

export function recordAdminEvent(ctx: FlowContext, type: SecurityEventType, write: AdminWrite, details: Record<string, string | number | boolean | null> = {}): void {
  ctx.events.record({ type, userId: write.target.id, details: { ...write.audit, ...details } });
}

/** The target as it is now: what every action answers. */
export async function currentDetails(ctx: FlowContext, userId: string): Promise<AdminUserDetails> {
  return describeUserForAdmin(ctx, await findAdminTarget(ctx, userId));
}
