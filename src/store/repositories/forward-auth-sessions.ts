// Forward-auth cookies (migration 0022): the SHA-256 of each cookie's token, its Twofold session
// and the domain it was set for. Nothing here decides; src/forward-auth/http/cookie-sessions.ts does.
import type { Executor, ForwardAuthSessionsTable } from '../database.js';

export async function insertForwardAuthSession(db: Executor, row: ForwardAuthSessionsTable): Promise<void> {
  await db.insertInto('forward_auth_sessions').values(row).execute();
}

export async function findForwardAuthSession(db: Executor, tokenHash: string): Promise<ForwardAuthSessionsTable | undefined> {
  const row = await db.selectFrom('forward_auth_sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  return row === undefined ? undefined : { ...row, created_at: Number(row.created_at) };
}

export async function deleteForwardAuthSession(db: Executor, tokenHash: string): Promise<void> {
  await db.deleteFrom('forward_auth_sessions').where('token_hash', '=', tokenHash).execute();
}
