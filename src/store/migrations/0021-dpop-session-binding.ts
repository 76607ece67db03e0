// sessions.dpop_jkt: the RFC 7638 thumbprint of the key a session is bound to (DPoP, RFC 9449),
// set when the sign-in that completed it carried a valid proof. Every access token minted from
// the session carries it as cnf.jkt, and its refresh tokens work only with a proof of that key.
// Null: an unbound session (bearer tokens, or tokens bound per refresh to the proof's key).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('dpop_jkt', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('dpop_jkt').execute();
}
