// A login is a password step and then a second factor, minutes apart. When the password or the
// set of factors changes in between, the login started under the old credentials must not finish
// (RC-03): whoever knew the old password, or held the removed factor, is the reason for the
// change. Two defences, each enough on its own:
// - the change ends the user's pending logins in its own transaction (pending → revoked);
// - the user row records when the credentials changed (strictly increasing), each pending session
//   what its password step saw, and a login completes only while the two agree. That catches the
//   login whose password check was running while the change committed, and so was not yet there
//   to be ended.
// Every transaction that completes a login and every change takes the user's row first, so the
// two are serialized on PostgreSQL across instances too, never interleaved.
import { invalidTokenError } from '../../errors.js';
import type { Database, SessionRow } from '../../store/database.js';
import { voidOpenPasswordResets } from '../../store/repositories/password-resets.js';
import { holdUserRow, stampCredentialsChange } from '../../store/repositories/users.js';
import type { Transaction } from 'kysely';
import type { FlowContext } from '../shared/context.js';
import { endSessionsOfUser, type EndedSessions } from './revoke-sessions.js';

declare const held: unique symbol;

/**
 * What completing a login needs of it: its pending session, the jti it is bound to, its user. An
 * mfa_token's PendingAuthentication is one; so is the session a passkey sign-in opens and completes
 * in one transaction.
 */
export interface PendingLogin {
  session: Pick<SessionRow, 'id' | 'client_id' | 'credentials_changed_at'>;
  claims: { jti: string };
  user: { id: string };
}

/** A pending login whose user row this transaction holds, checked against the credentials. */
export type HeldPendingLogin = PendingLogin & { readonly [held]: true };

export const credentialsChangedDetail = 'The password or the factors of this account changed after this sign-in started; sign in again.';

/** True while the credentials are those the login's password step saw. */
export function credentialsUnchangedSinceLogin(session: { credentials_changed_at: number | null }, user: { credentials_changed_at: number | null }): boolean {
  return session.credentials_changed_at === user.credentials_changed_at;
}

/**
 * First in a transaction that completes a login: holds the user's row until commit and refuses
 * (invalid_token, rolling back whatever the caller did) a login the credentials changed under.
 */
export async function holdPendingLogin(trx: Transaction<Database>, auth: PendingLogin): Promise<HeldPendingLogin> {
  const user = await holdUserRow(trx, auth.user.id);
  if (user === undefined || !credentialsUnchangedSinceLogin(auth.session, user)) throw invalidTokenError(credentialsChangedDetail);
  return auth as HeldPendingLogin;
}

/**
 * First in the transaction of a change (password set, changed or reset; a factor activated or
 * removed; an administrator's reset): records it, ends the user's pending logins — all but
 * `keep`, the session making the change — and, with signedIn 'end', the other signed-in sessions
 * too; voids an open password-reset code (but `keepPasswordResetId`, the one being used).
 * Announce `signedIn` with announceRevokedSessions once committed.
 */
export async function recordCredentialsChange(
  ctx: FlowContext,
  trx: Transaction<Database>,
  input: { userId: string; reason: string; keep?: string | undefined; signedIn: 'end' | 'keep'; keepPasswordResetId?: string | undefined },
): Promise<EndedSessions & { changedAt: number }> {
  const now = ctx.now();
  const changedAt = await stampCredentialsChange(trx, input.userId, now);
  const ended = await endSessionsOfUser(trx, { userId: input.userId, keep: input.keep, signedIn: input.signedIn, reason: input.reason, now });
  await voidOpenPasswordResets(trx, input.userId, now, input.keepPasswordResetId);
  return { ...ended, changedAt };
}
