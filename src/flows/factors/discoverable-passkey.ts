// Which passkeys can sign in alone, with no username typed: a discoverable credential (a
// "resident key") lives on the authenticator with the user handle, so the browser can offer it
// to a usernameless sign-in (migration 0018 records it; passkeys registered before are unknown and
// stay second factors). A locked one (a cloned-authenticator signal) signs in nowhere. Only
// passkeys that can sign in alone count towards going passwordless (PW-15) and are shown as such.
import type { WebauthnCredentialRow } from '../../store/database.js';

export function isDiscoverablePasskey(row: Pick<WebauthnCredentialRow, 'discoverable' | 'locked_at'>): boolean {
  return row.discoverable === 1 && row.locked_at === null;
}
