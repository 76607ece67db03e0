// An OpenID Provider client's sealed secret gets a column of its own (it was a field of the row's
// JSON), so that `twofold keys rotate-encryption` re-seals it and `encryption-status` counts it
// like every other sealed value — before, removing a previous encryption key silently left every
// confidential client unable to authenticate. Existing clients' sealed secrets move to the column
// and leave the JSON (no copy sealed under an old key stays behind).
import { sql, type Kysely } from 'kysely';

const field = 'twofold_client_secret_sealed';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oidc_payloads').addColumn('sealed_secret', 'text').execute();
  const clients = await sql<{ id: string; payload: string }>`select id, payload from oidc_payloads where kind = 'Client'`.execute(db);
  for (const client of clients.rows) {
    const { [field]: sealed, ...rest } = JSON.parse(client.payload) as Record<string, unknown>;
    if (typeof sealed !== 'string') continue;
    await sql`update oidc_payloads set sealed_secret = ${sealed}, payload = ${JSON.stringify(rest)} where kind = 'Client' and id = ${client.id}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('oidc_payloads').dropColumn('sealed_secret').execute();
}
