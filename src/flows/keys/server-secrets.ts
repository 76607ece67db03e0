// Server-wide secrets that must be identical on every instance (the code pepper) are created
// once, sealed under the encryption key and stored in the database; each instance opens them.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { secretBoxAad, type SecretBox } from '../../core/crypto/secretbox.js';
import type { Database } from '../../store/database.js';
import { findServerSecret, insertServerSecretIfAbsent } from '../../store/repositories/server-secrets.js';

export const codePepperName = 'code-pepper';
/** The HMAC key of DPoP server nonces (src/core/dpop/nonces.ts): every instance issues and accepts the same nonces. */
export const dpopNonceSecretName = 'dpop-nonce';

export function serverSecretAad(name: string): string {
  return secretBoxAad('server-secret', name);
}

export async function loadOrCreateServerSecret(db: Kysely<Database>, secretBox: SecretBox, name: string, now: number): Promise<Buffer> {
  const aad = serverSecretAad(name);
  let row = await findServerSecret(db, name);
  if (row === undefined) {
    const sealed = secretBox.seal(randomBytes(32).toString('base64url'), aad);
    await insertServerSecretIfAbsent(db, { name, ciphertext: sealed, created_at: now });
    row = await findServerSecret(db, name);
  }
  if (row === undefined) throw new Error(`server secret ${name} could not be stored`);
  return Buffer.from(secretBox.open(row.ciphertext, aad), 'base64url');
}
