// Roles given and taken by an admin through the API: `support` by any admin, `admin` by a
// superadmin only, `superadmin` never (the command line only) — so no API session can make itself
// or a friend more powerful than it is. A target who is an admin needs a superadmin too (roles.ts).
import { TwofoldError } from '../../errors.js';
import { deleteUserRole, insertUserRole } from '../../store/repositories/user-roles.js';
import type { FlowContext } from '../../flows/shared/context.js';
import type { AdminActor } from '../admin-actor.js';
import { parseAdminRole, type AdminRole } from '../roles.js';
import type { AdminUserDetails } from '../user-details.js';
import { currentDetails, prepareAdminWrite, recordAdminEvent } from './admin-write.js';

function requireRightToGive(actor: AdminActor, role: AdminRole): void {
  if (role === 'superadmin') throw new TwofoldError('forbidden', 'The superadmin role is granted and revoked on the command line only.');
  if (role === 'admin' && !actor.roles.includes('superadmin')) throw new TwofoldError('forbidden', 'Only a superadmin grants or revokes the admin role.');
}

export async function grantRole(ctx: FlowContext, actor: AdminActor, userId: string, role: string, reason: string): Promise<AdminUserDetails> {
  const checkedRole = parseAdminRole(role);
  requireRightToGive(actor, checkedRole);
  const write = await prepareAdminWrite(ctx, actor, userId, reason);
  const changed = await insertUserRole(ctx.db, { userId: write.target.id, role: checkedRole, grantedBy: actor.auth.user.id, now: ctx.now() });
  recordAdminEvent(ctx, 'admin.role_granted', write, { role: checkedRole, changed, via: 'api' });
  return currentDetails(ctx, write.target.id);
}

export async function revokeRole(ctx: FlowContext, actor: AdminActor, userId: string, role: string, reason: string): Promise<AdminUserDetails> {
  const checkedRole = parseAdminRole(role);
  requireRightToGive(actor, checkedRole);
  const write = await prepareAdminWrite(ctx, actor, userId, reason);
  const changed = await deleteUserRole(ctx.db, write.target.id, checkedRole);
  recordAdminEvent(ctx, 'admin.role_revoked', write, { role: checkedRole, changed, via: 'api' });
  return currentDetails(ctx, write.target.id);
}
