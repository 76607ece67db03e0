// Rows that stop mattering at their expires_at: a challenge (its code or WebAuthn challenge is
// refused after it), a password-reset code (one per name asked about, most for names nobody has),
// an e-mail verification link, a remembered browser, a refresh token (it expires with
// its session's absolute deadline), an outbox message, the Twofold session of an OpenID Provider
// grant. Each table has an index on expires_at (migrations 0008, 0010, 0013, 0014 and 0016), so a
// batch of the oldest is an index range, never a scan.
import type { Executor } from '../database.js';

export const expiringTables = ['challenges', 'password_resets', 'email_verifications', 'trusted_devices', 'refresh_tokens', 'outbox', 'oidc_session_grants'] as const;
export type ExpiringTable = (typeof expiringTables)[number];

/** Up to `limit` ids of the table's rows that expired before `before`, oldest first. */
export function expiredRowsQuery(db: Executor, table: ExpiringTable, before: number, limit: number) {
  // One shape for every table (each has id and expires_at); typed through one of them.
  return db
    .selectFrom(table as 'challenges')
    .select('id')
    .where('expires_at', '<', before)
    .orderBy('expires_at')
    .limit(limit);
}

/** Deletes one batch of expired rows; the caller repeats while a batch comes back full. */
export async function deleteExpiredRows(db: Executor, table: ExpiringTable, before: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom(table as 'challenges')
    .where('id', 'in', expiredRowsQuery(db, table, before, limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
