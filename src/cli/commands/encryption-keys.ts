// `twofold keys rotate-encryption [--generate]` and `twofold keys encryption-status`: the root
// encryption key (not the signing keys). With keys from the environment the operator sets the new
// TWOFOLD_ENCRYPTION_KEY and the old one in TWOFOLD_PREVIOUS_ENCRYPTION_KEYS on every instance,
// then re-seals; in development, --generate replaces the generated key file first.
import { loadConfig } from '../../config/load.js';
import type { TwofoldConfig } from '../../config/schema.js';
import { replaceEncryptionKeyFile, type ReplacedEncryptionKeyFile } from '../../config/replace-encryption-key-file.js';
import { countSealedValuesByKeyId, type EncryptionKeyUsage } from '../../flows/keys/encryption-key-usage.js';
import { rotateEncryptionKey, type EncryptionKeyRotation } from '../../flows/keys/rotate-encryption-key.js';
import { zeroPerSealedTable, type SealedTable } from '../../store/repositories/sealed-values.js';
import type { Twofold } from '../../twofold.js';
import { printError, printJson, printLines, printTable } from '../output.js';
import { withTwofold } from './with-twofold.js';

export async function rotateEncryptionCommand(options: { json?: boolean; generate?: boolean }): Promise<void> {
  let generated: ReplacedEncryptionKeyFile | undefined;
  if (options.generate === true) {
    const config = loadConfig();
    const refusal = refusalToGenerate(config);
    if (refusal !== undefined) {
      printError(refusal);
      process.exitCode = 2;
      return;
    }
    generated = replaceEncryptionKeyFile(config.dataDir);
  }
  await withTwofold(async (twofold) => {
    const rotation = await rotateEncryptionKey(twofold.context);
    const removable = twofold.encryptionKey.previousIds.filter((keyId) => !rotation.remaining.some((usage) => usage.keyId === keyId));
    if (options.json === true) return printJson(rotationJson(rotation, removable, generated));
    printLines(...describeRotation(twofold, rotation, removable, generated));
  });
}

export async function encryptionStatusCommand(options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const usage = await countSealedValuesByKeyId(twofold.database.db, twofold.context.secretBox);
    const { id: currentId, previousIds } = twofold.encryptionKey;
    const keyIds = [currentId, ...previousIds, ...usage.map((entry) => entry.keyId).filter((keyId) => keyId !== currentId && !previousIds.includes(keyId))];
    const rows = keyIds.map((keyId) => {
      const entry = usage.find((candidate) => candidate.keyId === keyId);
      const state = keyId === currentId ? 'current' : previousIds.includes(keyId) ? 'previous' : 'not configured';
      return { key_id: keyId, state, ...usageColumns(entry) };
    });
    if (options.json === true) return printJson(rows);
    printTable(rows);
    const idle = rows.filter((row) => row.state === 'previous' && row.total === 0).map((row) => row.key_id);
    const busy = rows.filter((row) => row.state !== 'current' && row.total > 0).map((row) => row.key_id);
    if (busy.length > 0) printLines('', `Run \`twofold keys rotate-encryption\` to re-seal what ${busy.join(', ')} still hold(s).`);
    if (idle.length > 0) printLines('', `Nothing is sealed under ${idle.join(', ')}: ${removalAdvice(twofold)}`);
  });
}

/** Production keys come from a secret manager, and a key given in the environment is not ours to replace. */
function refusalToGenerate(config: TwofoldConfig): string | undefined {
  const procedure =
    'put the new key in TWOFOLD_ENCRYPTION_KEY and the old one in TWOFOLD_PREVIOUS_ENCRYPTION_KEYS on every instance, ' +
    'then run `twofold keys rotate-encryption` without --generate.';
  if (config.mode === 'production') return `twofold: --generate is refused in production mode: the encryption key comes from your secret manager; ${procedure}`;
  if (config.encryptionKey !== undefined) return `twofold: --generate replaces the generated key file in the data dir, but TWOFOLD_ENCRYPTION_KEY is set; ${procedure}`;
  return undefined;
}

function usageColumns(usage: EncryptionKeyUsage | undefined): Record<SealedTable | 'total', number> {
  return { ...(usage?.counts ?? zeroPerSealedTable()), total: usage?.total ?? 0 };
}

function rotationJson(rotation: EncryptionKeyRotation, removable: string[], generated: ReplacedEncryptionKeyFile | undefined): object {
  return {
    key_id: rotation.keyId,
    resealed: rotation.resealed,
    changed_concurrently: rotation.changedConcurrently,
    unopenable: rotation.unopenable,
    remaining: rotation.remaining.map((usage) => ({ key_id: usage.keyId, ...usageColumns(usage) })),
    complete: rotation.remaining.length === 0,
    removable_previous_key_ids: removable,
    ...(generated === undefined
      ? {}
      : { generated: { key_id: generated.keyId, previous_key_id: generated.previousKeyId, path: generated.path, previous_keys_path: generated.previousKeysPath } }),
  };
}

function describeRotation(twofold: Twofold, rotation: EncryptionKeyRotation, removable: string[], generated: ReplacedEncryptionKeyFile | undefined): string[] {
  const { factors, signing_keys: signingKeys, server_secrets: serverSecrets, outbox } = rotation.resealed;
  const lines: string[] = [];
  if (generated !== undefined) {
    lines.push(`new encryption key ${generated.keyId} written to ${generated.path}; the old key ${generated.previousKeyId} was added to ${generated.previousKeysPath}.`);
  }
  lines.push(
    `re-sealed ${factors + signingKeys + serverSecrets + outbox} value(s) under encryption key ${rotation.keyId}: ` +
      `${factors} TOTP secret(s), ${signingKeys} signing key(s), ${serverSecrets} server secret(s)${outbox > 0 ? `, ${outbox} development outbox message(s)` : ''}.`,
  );
  if (rotation.changedConcurrently > 0) lines.push(`${rotation.changedConcurrently} value(s) changed while this ran and were left as written.`);
  if (rotation.unopenable > 0) lines.push(`${rotation.unopenable} value(s) could not be opened and were left as they are (see the warnings above).`);
  for (const usage of rotation.remaining) {
    lines.push(`${usage.total} value(s) remain under key ${usage.keyId}: keep that key configured, and run this again once every instance seals with ${rotation.keyId}.`);
  }
  if (removable.length > 0) lines.push(`Nothing is sealed under ${removable.join(', ')} any more: ${removalAdvice(twofold)}`);
  if (generated !== undefined) lines.push('Restart running servers: they hold the old key only, and what is now sealed under the new one would not open there.');
  return lines;
}

function removalAdvice(twofold: Twofold): string {
  const { previousKeysPath } = twofold.encryptionKey;
  const alsoInEnvironment = twofold.config.previousEncryptionKeys.length > 0;
  const where =
    previousKeysPath === undefined
      ? 'remove it from TWOFOLD_PREVIOUS_ENCRYPTION_KEYS'
      : `delete its line in ${previousKeysPath}${alsoInEnvironment ? ' (or its entry in TWOFOLD_PREVIOUS_ENCRYPTION_KEYS)' : ''}`;
  return `${where} once every server runs with the new key.`;
}
