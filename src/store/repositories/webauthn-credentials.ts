// Passkey credentials, one per WebAuthn factor. The credential id is unique across all users
// (WA-06: nobody can register someone else's credential), and the signature counter only moves
// forward, with a compare-and-set — never on a locked credential (a counter that went backwards
// locks it, WA-13).
import type { Insertable } from 'kysely';
import type { Executor, FactorStatus, WebauthnCredentialRow, WebauthnCredentialsTable } from '../database.js';
import { prepareQuery } from '../prepared-query.js';

export async function insertWebauthnCredential(db: Executor, credential: Insertable<WebauthnCredentialsTable>): Promise<void> {
  await db.insertInto('webauthn_credentials').values(credential).execute();
}

export function findWebauthnCredentialOfFactor(db: Executor, factorId: string): Promise<WebauthnCredentialRow | undefined> {
  return db.selectFrom('webauthn_credentials').selectAll().where('factor_id', '=', factorId).executeTakeFirst();
}

/** A credential with its factor's owner and state: who a discoverable assertion claims to be. */
export type OwnedWebauthnCredential = WebauthnCredentialRow & { user_id: string; factor_status: FactorStatus };

/** The credential with this id (base64url), whoever owns it — the first step of a passkey sign-in. */
export async function findWebauthnCredentialById(db: Executor, credentialId: string): Promise<OwnedWebauthnCredential | undefined> {
  return (await credentialById(db, [credentialId]))[0];
}

// Compiled once (prepared-query.ts): every passkey sign-in starts with it.
const credentialById = prepareQuery<OwnedWebauthnCredential>((db) =>
  db
    .selectFrom('webauthn_credentials')
    .innerJoin('factors', 'factors.id', 'webauthn_credentials.factor_id')
    .selectAll('webauthn_credentials')
    .select(['factors.user_id as user_id', 'factors.status as factor_status'])
    .where('webauthn_credentials.credential_id', '=', ''),
);

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

/**
 * Moves the counter from the value the verification started from and records the backup state
 * (BS) the assertion reported; false if someone else moved it first, or the credential is locked.
 */
export async function advanceSignCount(db: Executor, factorId: string, from: number, to: number, backedUp: boolean): Promise<boolean> {
  const result = await db
    .updateTable('webauthn_credentials')
    .set({ sign_count: to, backed_up: backedUp ? 1 : 0 })
    .where('factor_id', '=', factorId)
    .where('sign_count', '=', from)
    .where('locked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Locks the credential (a cloned-authenticator signal); true when this call locked it. */
export async function lockWebauthnCredential(db: Executor, factorId: string, now: number): Promise<boolean> {
  const result = await db.updateTable('webauthn_credentials').set({ locked_at: now }).where('factor_id', '=', factorId).where('locked_at', 'is', null).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
