// The provider's account for a Twofold user: the subject is the user id; a disabled user (or one
// that is gone) has none, so the provider refuses their tokens.
import type { Account } from 'oidc-provider';
import type { UserRow } from '../store/database.js';

export function accountOfUser(user: Pick<UserRow, 'id' | 'email' | 'email_verified_at' | 'disabled_at'> | undefined): Account | undefined {
  if (user === undefined || user.disabled_at !== null) return undefined;
  return {
    accountId: user.id,
    // The provider keeps only the claims the granted scopes allow (email: the email scope).
    claims: () => ({ sub: user.id, ...(user.email === null ? {} : { email: user.email, email_verified: user.email_verified_at !== null }) }),
  };
}
