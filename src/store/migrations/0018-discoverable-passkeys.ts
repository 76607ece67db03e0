// Passkeys that sign in alone (without a password): whether the credential is discoverable — a
// resident key the authenticator can offer without being told its id — and whether it is locked
// after a cloned-authenticator signal. `discoverable` is 1 (credProps said rk, or it was registered
// with residentKey "required"), 0 (credProps said it is not) or null: registered before this was
// asked (with residentKey "preferred"), unknown — such a passkey keeps working as a second factor
// but cannot sign in alone. `locked_at` (ms): a signature counter that did not move forward; the
// credential can neither sign in nor serve as a second factor until its owner removes it.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webauthn_credentials').addColumn('discoverable', 'integer').execute();
  await db.schema.alterTable('webauthn_credentials').addColumn('locked_at', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webauthn_credentials').dropColumn('locked_at').execute();
  await db.schema.alterTable('webauthn_credentials').dropColumn('discoverable').execute();
}
