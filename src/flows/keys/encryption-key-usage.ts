// Which encryption keys the database still needs: how many sealed values each key id holds. Key
// ids are discovered, not assumed — one value outside the ids known so far names the next id —
// so a value sealed under a key nobody configured is found too. Each step is a scan of one sealed
// column in the database (no index helps a prefix of a ciphertext), and a database usually holds
// one or two key ids. Start-up runs it to refuse, naming the missing key id, a configuration that
// could not open everything — rather than letting some later login fail.
import type { Kysely } from 'kysely';
import { envelopePrefix, type SecretBox } from '../../core/crypto/secretbox.js';
import type { Database } from '../../store/database.js';
import { countSealedValuesOutside, countSealedValuesWithPrefix, listSealedValuesOutside, sealedTables, zeroPerSealedTable, type SealedTable } from '../../store/repositories/sealed-values.js';

/** Stands for values that are not envelopes at all (a damaged row): no key opens them. */
export const unreadableKeyId = '(not an envelope)';

export interface EncryptionKeyUsage {
  keyId: string;
  counts: Record<SealedTable, number>;
  total: number;
}

export interface EncryptionKeyUsageOptions {
  /** Key ids not to count (the configured ones, when only the missing ones matter). */
  skipKeyIds?: readonly string[];
}

/** Sealed values per key id, most used first. */
export async function countSealedValuesByKeyId(
  db: Kysely<Database>,
  secretBox: Pick<SecretBox, 'keyIdOf'>,
  options: EncryptionKeyUsageOptions = {},
): Promise<EncryptionKeyUsage[]> {
  const usage = new Map<string, EncryptionKeyUsage>();
  const countFor = (keyId: string, table: SealedTable, count: number) => {
    const entry = usage.get(keyId) ?? { keyId, counts: zeroPerSealedTable(), total: 0 };
    entry.counts[table] += count;
    entry.total += count;
    usage.set(keyId, entry);
  };
  for (const table of sealedTables) {
    const known = (options.skipKeyIds ?? []).map(envelopePrefix);
    for (;;) {
      const [sample] = await listSealedValuesOutside(db, table, known, { limit: 1 });
      if (sample === undefined) break;
      const keyId = secretBox.keyIdOf(sample.ciphertext);
      if (keyId === undefined) {
        countFor(unreadableKeyId, table, await countSealedValuesOutside(db, table, known));
        break;
      }
      countFor(keyId, table, await countSealedValuesWithPrefix(db, table, envelopePrefix(keyId)));
      known.push(envelopePrefix(keyId));
    }
  }
  return [...usage.values()].sort((a, b) => b.total - a.total || a.keyId.localeCompare(b.keyId));
}
