// Assembles a running Twofold from a configuration: database (migrated), encryption key,
// key ring, server pepper and password hasher. The server, the CLI and library users all start
// here, so every entry point runs the same checks in the same order.
import type { TwofoldConfig } from './config/schema.js';
import { resolveEncryptionKey, type ResolvedEncryptionKey } from './config/encryption-key.js';
import { createWorkLimiter, type WorkLimiter } from './core/concurrency/work-limiter.js';
import { createSecretBox, encryptionKeyId, SecretBoxError } from './core/crypto/secretbox.js';
import { createPasswordHasher } from './core/password/hasher.js';
import type { AccessTokenClaims } from './core/tokens/claims.js';
import { VerifiedTokenCache } from './core/tokens/verified-token-cache.js';
import type { FlowContext } from './flows/context.js';
import { discardEvents, type SecurityEventSink } from './flows/security-events.js';
import { codePepperName, loadOrCreateServerSecret } from './flows/server-secrets.js';
import { createKeyRingManager } from './flows/signing-keys.js';
import { openDatabase, type OpenedDatabase } from './store/connect.js';
import { migrateToLatest } from './store/migrate.js';

export interface TwofoldOptions {
  /** Milliseconds since the epoch; tests pass a controllable clock. */
  now?: () => number;
  events?: SecurityEventSink;
  /** Skip applying migrations (for `twofold migrate --check` style tooling). */
  migrate?: boolean;
}

export interface Twofold {
  config: TwofoldConfig;
  context: FlowContext;
  database: OpenedDatabase;
  encryptionKey: Omit<ResolvedEncryptionKey, 'key'> & { id: string };
  hashLimiter: WorkLimiter;
  migrationsApplied: string[];
  close(): Promise<void>;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

export async function createTwofold(config: TwofoldConfig, options: TwofoldOptions = {}): Promise<Twofold> {
  const now = options.now ?? Date.now;
  const encryptionKey = resolveEncryptionKey(config);
  const secretBox = createSecretBox([encryptionKey.key]);
  const database = openDatabase(config.database);
  try {
    const migrationsApplied = options.migrate === false ? [] : (await migrateToLatest(database.db)).applied;
    const retiredKeyRetentionMs =
      (Math.max(config.tokens.accessTokenTtlSeconds, config.tokens.mfaTokenTtlSeconds) + config.tokens.clockSkewSeconds) * 1000;
    const [keys, codePepper] = await Promise.all([
      createKeyRingManager({ db: database.db, secretBox, algorithm: config.tokens.signingAlgorithm, now, retiredKeyRetentionMs }),
      loadOrCreateServerSecret(database.db, secretBox, codePepperName, now()),
    ]).catch((error: unknown) => {
      if (error instanceof SecretBoxError) {
        throw new StartupError(
          `The database holds secrets sealed with a different encryption key than the one configured (id ${encryptionKeyId(encryptionKey.key)}). ` +
            'Set TWOFOLD_ENCRYPTION_KEY to the key this database was created with.',
          { cause: error },
        );
      }
      throw error;
    });
    const hashLimiter = createWorkLimiter({ maxInFlight: config.password.hashConcurrency, maxQueued: config.password.hashQueueLimit });
    const context: FlowContext = {
      config,
      db: database.db,
      now,
      secretBox,
      passwordHasher: createPasswordHasher(config.password.argon2, hashLimiter),
      keys,
      codePepper,
      accessTokenCache: new VerifiedTokenCache<AccessTokenClaims>(10_000),
      events: options.events ?? discardEvents,
    };
    const { key: _secret, ...keyInfo } = encryptionKey;
    return {
      config,
      context,
      database,
      encryptionKey: { ...keyInfo, id: secretBox.currentKeyId },
      hashLimiter,
      migrationsApplied,
      close: () => database.close(),
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
