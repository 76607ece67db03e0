// Admin roles. `support` reads (search, a user's page); `admin` also acts (lock, end sessions,
// resets, deletion, granting `support`); `superadmin` is an admin who may also act on other
// admins — reset their factors, lock them, grant or revoke `admin`. An admin without it is refused
// (403) on any write whose target holds `admin` or `superadmin`, so one stolen admin session cannot
// take over or lock out the other admins. `superadmin` itself is granted and revoked only on the
// command line (`twofold users grant-role`), by whoever runs the server.
import { TwofoldError } from '../errors.js';
import type { UserRoleName } from '../store/database.js';
import { deleteUserRole, insertUserRole } from '../store/repositories/user-roles.js';
import { findUserByIdOrUsername } from '../flows/account/admin.js';
import type { FlowContext } from '../flows/shared/context.js';
import type { UserView } from '../flows/shared/views.js';
import { toUserView } from '../flows/shared/views.js';

export type AdminRole = UserRoleName;

export const adminRoles: readonly AdminRole[] = ['admin', 'support', 'superadmin'];

export function isAdminRole(value: string): value is AdminRole {
  return (adminRoles as readonly string[]).includes(value);
}

export function parseAdminRole(value: string): AdminRole {
  if (!isAdminRole(value)) throw new TwofoldError('invalid_request', `Unknown role "${value}"; roles: ${adminRoles.join(', ')}.`);
  return value;
}

/** Roles that may write (every admin action); support only reads. */
export function mayWrite(roles: readonly AdminRole[]): boolean {
  return roles.includes('admin') || roles.includes('superadmin');
}

/** Whether an account with these roles is an admin, whom only a superadmin may act on. */
export function isProtectedAdmin(roles: readonly AdminRole[]): boolean {
  return mayWrite(roles);
}

/**
 * The command line's grant: the operator runs the server, so any role, `superadmin` included.
 * Recorded as an event naming the operator.
 */
export async function grantRoleFromCli(ctx: FlowContext, idOrUsername: string, role: AdminRole, operator: string): Promise<{ user: UserView; changed: boolean }> {
  const user = await findUserByIdOrUsername(ctx, idOrUsername);
  const changed = await insertUserRole(ctx.db, { userId: user.id, role, grantedBy: operator, now: ctx.now() });
  ctx.events.record({ type: 'admin.role_granted', userId: user.id, details: { operator, role, changed, via: 'cli' } });
  return { user: toUserView(user), changed };
}

export async function revokeRoleFromCli(ctx: FlowContext, idOrUsername: string, role: AdminRole, operator: string): Promise<{ user: UserView; changed: boolean }> {
  const user = await findUserByIdOrUsername(ctx, idOrUsername);
  const changed = await deleteUserRole(ctx.db, user.id, role);
  ctx.events.record({ type: 'admin.role_revoked', userId: user.id, details: { operator, role, changed, via: 'cli' } });
  return { user: toUserView(user), changed };
}
