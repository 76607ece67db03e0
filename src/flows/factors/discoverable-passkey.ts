// Which passkeys can sign in alone, with no username typed: a discoverable credential (a
// "resident key") lives on the authenticator with the user handle, so the browser can offer it
// to a usernameless sign-in. Only such passkeys count towards going passwordless (PW-15).
import type { WebauthnCredentialRow } from '../../store/database.js';

/**
 * The row is one of the user's ACTIVE passkeys (listWebauthnCredentialsOfUser reads only those).
 * For now every active passkey counts: whether a credential is discoverable is recorded by a
 * column that comes with the usernameless sign-in (a later migration); once it exists this reads
 * it — e.g. `return row.discoverable === 1` — and nothing else changes.
 */
export function isDiscoverablePasskey(row: WebauthnCredentialRow): boolean {
  void row;
  return true;
}
