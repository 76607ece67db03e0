// Users. Usernames arrive already normalized (core/identity/username.ts).
import { PostgresAdapter, type Insertable, type Transaction } from 'kysely';
import type { Database, Executor, UserRow, UsersTable } from '../database.js';
import { prepareQuery } from '../prepared-query.js';

export async function insertUser(db: Executor, user: Insertable<UsersTable>): Promise<void> {
  await db.insertInto('users').values(user).execute();
}

const userByUsername = prepareQuery<UserRow>((db) => db.selectFrom('users').selectAll().where('username', '=', '?'));
const userById = prepareQuery<UserRow>((db) => db.selectFrom('users').selectAll().where('id', '=', '?'));

export async function findUserByUsername(db: Executor, username: string): Promise<UserRow | undefined> {
  return (await userByUsername(db, [username]))[0];
}

export async function findUserById(db: Executor, id: string): Promise<UserRow | undefined> {
  return (await userById(db, [id]))[0];
}

/** A page of users by id (the primary key: an index range, never a sort); `after` is the last id of the previous page. */
export function usersPageQuery(db: Executor, page: { limit: number; after?: string | undefined }) {
  const query = db.selectFrom('users').selectAll();
  return (page.after === undefined ? query : query.where('id', '>', page.after)).orderBy('id').limit(page.limit);
}

export function listUsers(db: Executor, page: { limit: number; after?: string | undefined }): Promise<UserRow[]> {
  return usersPageQuery(db, page).execute();
}

export async function updatePasswordHash(db: Executor, userId: string, passwordHash: string, now: number): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', userId).execute();
}

/** Atomic increment: concurrent failures on several requests (or instances) all count. */
export async function incrementFailedAttempts(db: Executor, userId: string): Promise<void> {
  await db
    .updateTable('users')
    .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
    .where('id', '=', userId)
    .execute();
}

export async function lockUser(db: Executor, userId: string, now: number): Promise<boolean> {
  const result = await db.updateTable('users').set({ locked_at: now }).where('id', '=', userId).where('locked_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function unlockUser(db: Executor, userId: string): Promise<boolean> {
  const result = await db.updateTable('users').set({ locked_at: null, failed_attempts: 0 }).where('id', '=', userId).where('locked_at', 'is not', null).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** An admin's deletion: disabled now, deleted by the upkeep after `deleteAfter` (0023). */
export async function scheduleUserDeletion(db: Executor, userId: string, now: number, deleteAfter: number): Promise<void> {
  await db.updateTable('users').set({ disabled_at: now, delete_after: deleteAfter, updated_at: now }).where('id', '=', userId).execute();
}

/** True when a deletion was waiting (and is now cancelled: the account signs in again). */
export async function cancelUserDeletion(db: Executor, userId: string, now: number): Promise<boolean> {
  const result = await db.updateTable('users').set({ disabled_at: null, delete_after: null, updated_at: now }).where('id', '=', userId).where('delete_after', 'is not', null).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Deletes one batch of accounts whose grace ended (their factors, sessions, codes go with them: ON DELETE CASCADE). */
export async function deleteUsersPastGrace(db: Executor, now: number, limit: number): Promise<string[]> {
  const ids = (await db.selectFrom('users').select('id').where('delete_after', '<=', now).orderBy('delete_after').limit(limit).execute()).map((row) => row.id);
  if (ids.length === 0) return [];
  await db.deleteFrom('users').where('id', 'in', ids).where('delete_after', '<=', now).execute();
  return ids;
}

/** An admin forced a password reset: the password stops signing in until a reset (0023). */
export async function requirePasswordReset(db: Executor, userId: string, now: number): Promise<void> {
  await db.updateTable('users').set({ password_reset_required_at: now }).where('id', '=', userId).execute();
}

export async function clearPasswordResetRequirement(db: Executor, userId: string): Promise<void> {
  await db.updateTable('users').set({ password_reset_required_at: null }).where('id', '=', userId).where('password_reset_required_at', 'is not', null).execute();
}

/** A completed sign-in: the failure count starts over and the admin search sees when (0023). */
export async function recordSignIn(db: Executor, userId: string, now: number): Promise<void> {
  await db.updateTable('users').set({ failed_attempts: 0, last_sign_in_at: now }).where('id', '=', userId).execute();
}

export async function resetFailedAttempts(db: Executor, userId: string): Promise<void> {
  await db.updateTable('users').set({ failed_attempts: 0 }).where('id', '=', userId).where('failed_attempts', '>', 0).execute();
}

/**
 * Takes the user's row until the transaction ends, and reads when its credentials last changed.
 * Every transaction that completes a login or a step-up, or changes credentials, takes this row
 * first: a change and a completion then run one after the other (never interleaved), always in
 * the same lock order. PostgreSQL: FOR NO KEY UPDATE (new sessions can still reference the user).
 * SQLite: a database file has one writer at a time, so the read is enough.
 */
export async function holdUserRow(trx: Transaction<Database>, userId: string): Promise<{ credentials_changed_at: number | null } | undefined> {
  const query = trx.selectFrom('users').select('credentials_changed_at').where('id', '=', userId);
  return (trx.getExecutor().adapter instanceof PostgresAdapter ? query.forNoKeyUpdate() : query).executeTakeFirst();
}

/**
 * Records a credential change now. Strictly increasing — two changes in one millisecond, or on
 * instances whose clocks disagree, still leave different values — because logins compare it for
 * equality. Being an update, it also takes the user's row (see holdUserRow).
 */
export async function stampCredentialsChange(db: Executor, userId: string, now: number): Promise<number> {
  const row = await db
    .updateTable('users')
    .set((eb) => ({
      credentials_changed_at: eb.case().when('credentials_changed_at', '>=', now).then(eb('credentials_changed_at', '+', 1)).else(now).end(),
      updated_at: now,
    }))
    .where('id', '=', userId)
    .returning('credentials_changed_at')
    .executeTakeFirstOrThrow();
  return row.credentials_changed_at!;
}

/** "Not now" to the offer of a passkey that signs in alone: remembered on the user. */
export async function markPasskeyOfferDismissed(db: Executor, userId: string, now: number): Promise<void> {
  await db.updateTable('users').set({ passkey_offer_dismissed_at: now }).where('id', '=', userId).execute();
}
