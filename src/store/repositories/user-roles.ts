// Admin roles of users (migration 0023): one row per (user, role).
import type { Executor, UserRoleName } from '../database.js';

export async function rolesOfUser(db: Executor, userId: string): Promise<UserRoleName[]> {
  const rows = await db.selectFrom('user_roles').select('role').where('user_id', '=', userId).orderBy('role').execute();
  return rows.map((row) => row.role);
}

/** The roles of several users at once (a search page), by user id. */
export async function rolesOfUsers(db: Executor, userIds: readonly string[]): Promise<Map<string, UserRoleName[]>> {
  const roles = new Map<string, UserRoleName[]>();
  if (userIds.length === 0) return roles;
  const rows = await db.selectFrom('user_roles').select(['user_id', 'role']).where('user_id', 'in', userIds).orderBy('role').execute();
  for (const row of rows) roles.set(row.user_id, [...(roles.get(row.user_id) ?? []), row.role]);
  return roles;
}

/** True when the role was new (granting twice changes nothing). */
export async function insertUserRole(db: Executor, input: { userId: string; role: UserRoleName; grantedBy: string; now: number }): Promise<boolean> {
  const result = await db
    .insertInto('user_roles')
    .values({ user_id: input.userId, role: input.role, granted_at: input.now, granted_by: input.grantedBy })
    .onConflict((conflict) => conflict.columns(['user_id', 'role']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** True when the user held the role. */
export async function deleteUserRole(db: Executor, userId: string, role: UserRoleName): Promise<boolean> {
  const result = await db.deleteFrom('user_roles').where('user_id', '=', userId).where('role', '=', role).executeTakeFirst();
  return result.numDeletedRows === 1n;
}
