// Named server-wide secrets (the code pepper), sealed under the encryption key. Inserting
// ignores a conflict, so instances starting together converge on whichever secret won.
import type { Executor, ServerSecretsTable } from '../database.js';
import type { Selectable } from 'kysely';

export function findServerSecret(db: Executor, name: string): Promise<Selectable<ServerSecretsTable> | undefined> {
  return db.selectFrom('server_secrets').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function insertServerSecretIfAbsent(db: Executor, secret: Selectable<ServerSecretsTable>): Promise<void> {
  await db.insertInto('server_secrets').values(secret).onConflict((conflict) => conflict.column('name').doNothing()).execute();
}
