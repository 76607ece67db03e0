// What a passkey's registration proved, so a login derives `hwk`/`swk` from it and never from the
// flags a client sends: the attestation format that verified, the configured root its chain
// reached (null: none did, so the key is `swk`), and the AAGUID a trusted attestation vouched for.
// Credentials registered before this were never attested (Twofold asked for 'none'): all three
// stay null and such keys keep signing in, as `swk`.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webauthn_credentials').addColumn('attestation_format', 'text').execute();
  await db.schema.alterTable('webauthn_credentials').addColumn('attestation_root_sha256', 'text').execute();
  await db.schema.alterTable('webauthn_credentials').addColumn('aaguid', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webauthn_credentials').dropColumn('aaguid').execute();
  await db.schema.alterTable('webauthn_credentials').dropColumn('attestation_root_sha256').execute();
  await db.schema.alterTable('webauthn_credentials').dropColumn('attestation_format').execute();
}
