// Passkey credentials, one per WebAuthn factor. The credential id is unique across all users
// (WA-06: nobody can register someone else's credential), and the signature counter only moves
// forward, with a compare-and-set.
import type { Insertable } from 'kysely';
import type { Executor, WebauthnCredentialRow, WebauthnCredentialsTable } from '../database.js';

export async function insertWebauthnCredential(db: Executor, credential: Insertable<WebauthnCredentialsTable>): Promise<void> {
  await db.insertInto('webauthn_credentials').values(credential).execute();
}

export function findWebauthnCredentialOfFactor(db: Executor, factorId: string): Promise<WebauthnCredentialRow | undefined> {
  return db.selectFrom('webauthn_credentials').selectAll().where('factor_id', '=', factorId).executeTakeFirst();
}

/** The user's active passkeys (for excludeCredentials at registration). */
export function listWebauthnCredentialsOfUser(db: Executor, userId: string): Promise<WebauthnCredentialRow[]> {
  return db
    .selectFrom('webauthn_credentials')
    .innerJoin('factors', 'factors.id', 'webauthn_credentials.factor_id')
    .selectAll('webauthn_credentials')
    .where('factors.user_id', '=', userId)
    .where('factors.status', '=', 'active')
    .execute();
}

/** Moves the counter from the value the verification started from; false if someone else moved it. */
export async function advanceSignCount(db: Executor, factorId: string, from: number, to: number): Promise<boolean> {
  const result = await db
    .updateTable('webauthn_credentials')
    .set({ sign_count: to })
    .where('factor_id', '=', factorId)
    .where('sign_count', '=', from)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** No passkey with this credential id is registered (any more): the sign-in page may tell the browser so. */
export async function isUnknownPasskey(db: Executor, credentialId: string): Promise<boolean> {
  const row = await db.selectFrom('webauthn_credentials').select('factor_id').where('credential_id', '=', credentialId).executeTakeFirst();
  return row === undefined;
}
