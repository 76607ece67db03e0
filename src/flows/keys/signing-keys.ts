// The key ring as every instance sees it: loaded from the database (so instances sharing one
// database sign and verify alike), the private part of the current key opened with the
// secretbox, refreshed every minute and whenever a token names a kid we have not loaded yet.
// An unknown kid is never refused on the strength of a load that began before the request
// arrived (another instance may have rotated since, with the pub/sub announcement lost): the
// request waits for a load that began after it. Loads are single-flight, so a flood of bogus
// kids is one small query at a time, never a flood of them, and never delays a known key.
import type { Kysely } from 'kysely';
import type { SigningAlgorithm } from '../../config/schema.js';
import { secretBoxAad, type SecretBox } from '../../core/crypto/secretbox.js';
import { generateSigningKey, importSigningKey, type SigningKey } from '../../core/tokens/signing-key.js';
import type { Database, SigningKeyRow } from '../../store/database.js';
import { insertSigningKey, listSigningKeys, retireSigningKeysExcept } from '../../store/repositories/signing-keys.js';
import { lockForTransaction } from '../../store/locks.js';
import { runTransaction } from '../../store/transaction.js';
import type { KeyRingManager } from '../shared/context.js';

export type { KeyRingManager };

export interface KeyRingOptions {
  db: Kysely<Database>;
  secretBox: SecretBox;
  algorithm: SigningAlgorithm;
  now(): number;
  /** How long a retired key stays trusted: the longest token lifetime plus clock skew. */
  retiredKeyRetentionMs: number;
  reloadIntervalMs?: number;
}

interface LoadedRing {
  current: SigningKey;
  verifying: Map<string, SigningKey>;
  loadedAt: number;
}

export function privateKeyAad(kid: string): string {
  return secretBoxAad('signing-key', kid);
}

export async function createKeyRingManager(options: KeyRingOptions): Promise<KeyRingManager> {
  const reloadIntervalMs = options.reloadIntervalMs ?? 60_000;
  let ring: LoadedRing = await loadRing(options);
  let reloading: { startedAt: number; done: Promise<void> } | undefined;

  const reload = (): Promise<void> => {
    // Single-flight: concurrent callers share one load.
    if (reloading === undefined) {
      const load = { startedAt: performance.now(), done: Promise.resolve() };
      load.done = loadRing(options)
        .then((loaded) => {
          ring = loaded;
        })
        .finally(() => {
          reloading = undefined;
        });
      reloading = load;
    }
    return reloading.done;
  };

  /** A load that began at or after `instant` (monotonic ms): one begun earlier may have missed a key. */
  const reloadBegunAfter = async (instant: number): Promise<void> => {
    for (;;) {
      const current = reloading;
      if (current === undefined) return reload();
      if (current.startedAt >= instant) return current.done;
      await current.done.catch(() => undefined);
    }
  };

  return {
    async currentKey() {
      if (options.now() - ring.loadedAt > reloadIntervalMs) await reload();
      return ring.current;
    },
    async findKey(kid) {
      const known = ring.verifying.get(kid);
      if (known !== undefined) return known;
      await reloadBegunAfter(performance.now());
      return ring.verifying.get(kid);
    },
    async publishedKeys() {
      if (options.now() - ring.loadedAt > reloadIntervalMs) await reload();
      return [...ring.verifying.values()];
    },
    reload,
    async rotate() {
      const now = options.now();
      const generated = await generateSigningKey(options.algorithm);
      await runTransaction(options.db, async (trx) => {
        await insertSigningKey(trx, toRow(generated, options.secretBox, now));
        await retireSigningKeysExcept(trx, generated.kid, now);
      });
      await reload();
      return ring.current;
    },
  };
}

async function loadRing(options: KeyRingOptions): Promise<LoadedRing> {
  let rows = await listSigningKeys(options.db);
  if (!rows.some((row) => row.retired_at === null)) {
    await createFirstKey(options);
    rows = await listSigningKeys(options.db);
  }
  const now = options.now();
  const live = rows.filter((row) => row.retired_at === null || row.retired_at + options.retiredKeyRetentionMs > now);
  // Newest unretired key signs; ties broken by kid so every instance picks the same one.
  const currentRow = rows.filter((row) => row.retired_at === null).sort((a, b) => b.created_at - a.created_at || a.kid.localeCompare(b.kid))[0];
  if (currentRow === undefined) throw new Error('no current signing key after creating one');
  const verifying = new Map<string, SigningKey>();
  for (const row of live) {
    const isCurrent = row.kid === currentRow.kid;
    verifying.set(row.kid, await importRow(row, isCurrent ? options.secretBox : undefined));
  }
  const current = verifying.get(currentRow.kid);
  if (current === undefined) throw new Error('current signing key failed to load');
  return { current, verifying, loadedAt: now };
}

async function createFirstKey(options: KeyRingOptions): Promise<void> {
  const generated = await generateSigningKey(options.algorithm);
  await runTransaction(options.db, async (trx) => {
    // Instances starting together queue here; the first creates the key, the others find it.
    await lockForTransaction(trx, 'twofold:first-signing-key');
    const existing = await listSigningKeys(trx);
    if (existing.some((row) => row.retired_at === null)) return;
    await insertSigningKey(trx, toRow(generated, options.secretBox, options.now()));
  });
}

function toRow(generated: Awaited<ReturnType<typeof generateSigningKey>>, secretBox: SecretBox, now: number): SigningKeyRow {
  return {
    kid: generated.kid,
    alg: generated.alg,
    public_jwk: JSON.stringify(generated.publicJwk),
    private_ciphertext: secretBox.seal(JSON.stringify(generated.privateJwk), privateKeyAad(generated.kid)),
    created_at: now,
    retired_at: null,
  };
}

async function importRow(row: SigningKeyRow, secretBox: SecretBox | undefined): Promise<SigningKey> {
  const alg = row.alg === 'ES256' ? 'ES256' : 'EdDSA';
  const privateJwk = secretBox === undefined ? undefined : JSON.parse(secretBox.open(row.private_ciphertext, privateKeyAad(row.kid)));
  return importSigningKey({ alg, publicJwk: JSON.parse(row.public_jwk), privateJwk });
}
