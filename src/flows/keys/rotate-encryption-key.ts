// Re-sealing every stored secret under the current encryption key, so that the keys rotated away
// from (TWOFOLD_PREVIOUS_ENCRYPTION_KEYS) can be removed. Runs beside live servers:
// - batches: each batch is read, opened and re-sealed outside any transaction (CPU work should not
//   hold the database), then written in one short transaction;
// - every write is a compare-and-set on the ciphertext that was read, so a value another writer
//   replaced meanwhile (a re-enrolled factor, a second rotation running at the same time) is left
//   as that writer put it;
// - only values not already under the current key are read, so a second run re-seals nothing and
//   an interrupted run resumes where it stopped.
// Rotating the encryption key changes no plaintext: signing keys keep their kid (the JWKS is
// unchanged), TOTP secrets their codes, the pepper every recovery-code hash, the development
// outbox its messages (a code sent just before still reads the same after), an OpenID Provider client
// its secret.
import { envelopePrefix, SecretBoxError } from '../../core/crypto/secretbox.js';
import { outboxAad } from '../../delivery/outbox.js';
import { listSealedValuesOutside, replaceSealedValue, sealedTables, zeroPerSealedTable, type SealedTable, type SealedValueRow } from '../../store/repositories/sealed-values.js';
import { runTransaction } from '../../store/transaction.js';
import type { FlowContext } from '../shared/context.js';
import { countSealedValuesByKeyId, type EncryptionKeyUsage } from './encryption-key-usage.js';
import { oidcClientSecretAad } from './oidc-client-secret-aad.js';
import { serverSecretAad } from './server-secrets.js';
import { privateKeyAad } from './signing-keys.js';
import { totpAad } from '../factors/totp-factor.js';

export type RotationContext = Pick<FlowContext, 'db' | 'secretBox' | 'events' | 'diagnostics'>;

/** The AAD each sealed column was sealed with — the flows' own functions, never a copy of the format. */
const aadOf = {
  factors: (row) => totpAad(row.id, ownerOf(row)),
  signing_keys: (row) => privateKeyAad(row.id),
  server_secrets: (row) => serverSecretAad(row.id),
  outbox: (row) => outboxAad(row.id),
  oidc_payloads: (row) => oidcClientSecretAad(row.id),
} satisfies Record<SealedTable, (row: SealedValueRow) => string>;

export interface EncryptionKeyRotation {
  /** The key everything is now sealed under. */
  keyId: string;
  resealed: Record<SealedTable, number>;
  /** Values another writer changed between our read and our write; left as that writer put them. */
  changedConcurrently: number;
  /** Values that would not open: under a key not configured here, or failing authentication. */
  unopenable: number;
  /** What is still sealed under other keys; empty when the previous keys may be removed. */
  remaining: EncryptionKeyUsage[];
}

export interface ResealBatch {
  table: SealedTable;
  replacements: Array<{ id: string; expected: string; next: string }>;
  unopenable: number;
  /** Where the next batch starts; undefined when this table is done. */
  nextAfterId: string | undefined;
}

export async function rotateEncryptionKey(ctx: RotationContext, options: { batchSize?: number } = {}): Promise<EncryptionKeyRotation> {
  const batchSize = options.batchSize ?? 200;
  const resealed = zeroPerSealedTable();
  let changedConcurrently = 0;
  let unopenable = 0;
  for (const table of sealedTables) {
    let afterId: string | undefined;
    do {
      const batch = await readResealBatch(ctx, table, { afterId, limit: batchSize });
      const written = await writeResealBatch(ctx, batch);
      resealed[table] += written.resealed;
      changedConcurrently += written.changedConcurrently;
      unopenable += batch.unopenable;
      afterId = batch.nextAfterId;
    } while (afterId !== undefined);
  }
  const keyId = ctx.secretBox.currentKeyId;
  const remaining = await countSealedValuesByKeyId(ctx.db, ctx.secretBox, { skipKeyIds: [keyId] });
  const total = Object.values(resealed).reduce((sum, count) => sum + count, 0);
  if (total > 0) {
    ctx.events.record({
      type: 'encryption_key.rotated',
      details: { key_id: keyId, resealed: total, remaining: remaining.reduce((sum, usage) => sum + usage.total, 0), remaining_key_ids: remaining.map((usage) => usage.keyId).join(',') },
    });
  }
  return { keyId, resealed, changedConcurrently, unopenable, remaining };
}

/** Reads up to `limit` values not under the current key and re-seals them in memory. */
export async function readResealBatch(ctx: RotationContext, table: SealedTable, page: { afterId?: string | undefined; limit: number }): Promise<ResealBatch> {
  const rows = await listSealedValuesOutside(ctx.db, table, [envelopePrefix(ctx.secretBox.currentKeyId)], page);
  const replacements: ResealBatch['replacements'] = [];
  let unopenable = 0;
  for (const row of rows) {
    const aad = aadOf[table](row);
    try {
      replacements.push({ id: row.id, expected: row.ciphertext, next: ctx.secretBox.seal(ctx.secretBox.open(row.ciphertext, aad), aad) });
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
      unopenable += 1;
      // Ids and key ids only: the reason is in the error, the value stays where it is.
      ctx.diagnostics.warn({ table, id: row.id, keyId: ctx.secretBox.keyIdOf(row.ciphertext), reason: error.message }, 'a sealed value could not be opened; left as it is');
    }
  }
  return { table, replacements, unopenable, nextAfterId: rows.length < page.limit ? undefined : rows.at(-1)?.id };
}

/** Writes a batch in one transaction, each value only if it still holds what was read. */
export async function writeResealBatch(ctx: RotationContext, batch: ResealBatch): Promise<{ resealed: number; changedConcurrently: number }> {
  if (batch.replacements.length === 0) return { resealed: 0, changedConcurrently: 0 };
  // Counted inside: a transaction retried after a conflict decides every compare-and-set anew.
  return runTransaction(ctx.db, async (trx) => {
    let resealed = 0;
    for (const { id, expected, next } of batch.replacements) {
      if (await replaceSealedValue(trx, batch.table, id, expected, next)) resealed += 1;
    }
    return { resealed, changedConcurrently: batch.replacements.length - resealed };
  });
}

function ownerOf(row: SealedValueRow): string {
  if (row.ownerId === null) throw new TypeError(`sealed value ${row.id} has no owner for its AAD`);
  return row.ownerId;
}
