// Assembles a running Twofold from a configuration: database (migrated), shared state (Redis or
// memory) with its pub/sub subscriptions, encryption key, key ring, server pepper and password
// hasher. The server, the CLI and library users all start here, so every entry point runs the
// same checks in the same order.
import type { TwofoldConfig } from './config/schema.js';
import { resolveEncryptionKey, type ResolvedEncryptionKey } from './config/encryption-key.js';
import { createWorkLimiter, type WorkLimiter } from './core/concurrency/work-limiter.js';
import { createSecretBox, encryptionKeyId, SecretBoxError, type SecretBox } from './core/crypto/secretbox.js';
import { createPasswordHasher } from './core/password/hasher.js';
import type { AccessTokenClaims } from './core/tokens/claims.js';
import { VerifiedTokenCache } from './core/tokens/verified-token-cache.js';
import { bindFlows, type TwofoldFlows } from './flows/instance/bound-flows.js';
import { subscribeClusterEvents } from './flows/shared/cluster-events.js';
import { forgetKeptClientRows } from './store/repositories/oidc-client-rows-cache.js';
import type { FlowContext } from './flows/shared/context.js';
import { RevokedSessionSet } from './flows/sessions/revoked-sessions.js';
import { createAuditTrail } from './flows/audit/audit-trail.js';
import { createBackgroundTasks } from './flows/shared/background.js';
import { createSessionEndHooks } from './flows/sessions/session-end-hooks.js';
import { createMaintenance, type Maintenance } from './flows/instance/maintenance.js';
import { createNotifier } from './flows/audit/notifications.js';
import { noFlowMetrics } from './flows/shared/flow-metrics.js';
import { createTwofoldMetrics, type TwofoldMetrics } from './flows/instance/metrics.js';
import { countSealedValuesByKeyId } from './flows/keys/encryption-key-usage.js';
import { combineEventSinks, discardEvents, type EventLogger, type SecurityEventSink } from './flows/shared/security-events.js';
import { codePepperName, dpopNonceSecretName, loadOrCreateServerSecret } from './flows/keys/server-secrets.js';
import { createDpopNonces, createKeyValueDpopReplayStore } from './core/dpop/index.js';
import { createKeyRingManager } from './flows/keys/signing-keys.js';
import { startGraceAnswerSweeper } from './flows/sessions/refresh-grace.js';
import { AnotherInstanceRunningError, holdSingleInstanceLease, type LeaseTiming, type SingleInstanceLease } from './flows/instance/single-instance.js';
import { createMessageSenders } from './delivery/senders.js';
import { openDatabase, type OpenedDatabase } from './store/connect.js';
import type { KeyValueStore } from './store/kv/key-value-store.js';
import { createMemoryStore, type MemoryStore } from './store/kv/memory.js';
import { createRedisStore, redactedUrl } from './store/kv/redis.js';
import { migrateToLatest } from './store/migrate.js';
import type { Kysely } from 'kysely';
import type { Database } from './store/database.js';

export interface TwofoldOptions {
  /** Milliseconds since the epoch; tests pass a controllable clock. */
  now?: () => number;
  events?: SecurityEventSink;
  /** Operational warnings (a dropped connection, a degraded dependency). */
  logger?: Pick<EventLogger, 'warn'>;
  /** Skip applying migrations (for tooling that only reads). */
  migrate?: boolean;
  /**
   * Without Redis, hold the database's single-instance lease (default): a second instance on the
   * same database refuses to start. Tools that run beside a server (the CLI) pass false.
   */
  singleInstance?: boolean;
  /** Timing of that lease (tests shorten it). */
  singleInstanceLease?: LeaseTiming;
  /**
   * Run the background upkeep every TWOFOLD_MAINTENANCE_INTERVAL_SECONDS (default): timed-out
   * sessions retired, the audit trail capped and pruned, expired rows deleted. One-shot tools pass false.
   */
  maintenance?: boolean;
}

export interface Twofold {
  config: TwofoldConfig;
  context: FlowContext;
  /** Every flow as a function of this instance (library mode): the same code the routes call. */
  flows: TwofoldFlows;
  database: OpenedDatabase;
  kv: KeyValueStore;
  /** Where the encryption keys come from and their ids; never the keys themselves. */
  encryptionKey: Omit<ResolvedEncryptionKey, 'key' | 'previousKeys'> & { id: string; previousIds: string[] };
  hashLimiter: WorkLimiter;
  /** Prometheus metrics of this instance (its own registry); undefined when metrics are off. */
  metrics: TwofoldMetrics | undefined;
  migrationsApplied: string[];
  /** Human-readable shared-state location for the startup banner. */
  sharedStateLocation: string;
  /** The background upkeep (runOnce() runs it now: tests, `twofold audit prune`). */
  maintenance: Maintenance;
  close(): Promise<void>;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

const silentLogger = { warn() {} };

export async function createTwofold(config: TwofoldConfig, options: TwofoldOptions = {}): Promise<Twofold> {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const encryptionKey = resolveEncryptionKey(config);
  // The current key seals; previous keys only open what was sealed before a rotation.
  const secretBox = createSecretBox([encryptionKey.key, ...encryptionKey.previousKeys]);
  const configuredKeyIds = [encryptionKey.key, ...encryptionKey.previousKeys].map(encryptionKeyId);
  const database = openDatabase(config.database, (error) => logger.warn({ err: error }, 'database connection dropped; the pool reconnects'));
  let kv: KeyValueStore | undefined;
  let lease: SingleInstanceLease | undefined;
  try {
    const schema = config.database.kind === 'postgres' ? config.database.schema : undefined;
    const migrationsApplied = options.migrate === false ? [] : (await migrateToLatest(database.db, { schema }).catch(startupFailure('the database', config))).applied;
    let memoryStore: MemoryStore | undefined;
    if (config.redis === undefined) kv = memoryStore = createMemoryStore(now, { maxKeys: config.memoryStore.maxKeys, diagnostics: logger });
    else kv = await createRedisStore(config.redis, (error) => logger.warn({ err: error }, 'Redis connection error; retrying')).catch(startupFailure('Redis', config));
    await refuseValuesSealedUnderMissingKeys(database.db, secretBox, configuredKeyIds);
    lease =
      config.redis === undefined && options.singleInstance !== false
        ? await holdSingleInstanceLease(database.db, { timing: options.singleInstanceLease, onLost: (message) => logger.warn({}, message) }).catch((error: unknown) => {
            if (error instanceof AnotherInstanceRunningError) throw new StartupError(error.message, { cause: error });
            throw error;
          })
        : undefined;
    const retiredKeyRetentionMs =
      (Math.max(config.tokens.accessTokenTtlSeconds, config.tokens.mfaTokenTtlSeconds) + config.tokens.clockSkewSeconds) * 1000;
    const [keys, codePepper, dpopNonceSecret] = await Promise.all([
      createKeyRingManager({ db: database.db, secretBox, algorithm: config.tokens.signingAlgorithm, now, retiredKeyRetentionMs }),
      loadOrCreateServerSecret(database.db, secretBox, codePepperName, now()),
      loadOrCreateServerSecret(database.db, secretBox, dpopNonceSecretName, now()),
    ]).catch((error: unknown) => {
      if (error instanceof SecretBoxError) {
        throw new StartupError(
          `A secret in the database failed to open with the configured encryption key(s) (${configuredKeyIds.join(', ')}): ${error.message}. ` +
            'Set TWOFOLD_ENCRYPTION_KEY to the key this database was created with.',
          { cause: error },
        );
      }
      throw error;
    });
    const revokedSessions = new RevokedSessionSet();
    // Work started by a message finishes before close() tears down what it uses.
    let closing = false;
    let pendingReload: Promise<void> = Promise.resolve();
    await subscribeClusterEvents(
      kv,
      {
        onSessionsRevoked: (sessionIds, expiresAt) => {
          revokedSessions.sweep(now());
          for (const sessionId of sessionIds) revokedSessions.add(sessionId, expiresAt);
        },
        onSigningKeyRotated: () => {
          if (closing) return;
          pendingReload = keys.reload().catch((error: unknown) => logger.warn({ err: error }, 'could not reload signing keys after a rotation'));
        },
        onOidcClientsChanged: forgetKeptClientRows,
      },
      (message) => logger.warn({ message }, 'ignored a malformed cluster event'),
    );
    const senders = createMessageSenders(config, { db: database.db, secretBox, now });
    const auditTrail = createAuditTrail(database.db, now, (error) => logger.warn({ err: error }, 'could not write a security event to the audit trail'), { coalesceSeconds: config.audit.coalesceSeconds });
    const background = createBackgroundTasks((name, error) => logger.warn({ err: error, task: name }, 'background work failed'));
    // The notifier is one of the context's event sinks and needs the finished context to send.
    const assembled: { context?: FlowContext } = {};
    const notifier = createNotifier(() => {
      if (assembled.context === undefined) throw new TypeError('a notification before the context was assembled');
      return assembled.context;
    });
    const hashLimiter = createWorkLimiter({ maxInFlight: config.password.hashConcurrency, maxQueued: config.password.hashQueueLimit });
    const metrics = config.metrics.enabled
      ? createTwofoldMetrics({ hashLimiter, hashConcurrency: config.password.hashConcurrency, hashQueueLimit: config.password.hashQueueLimit, memoryStore })
      : undefined;
    const context: FlowContext = {
      config,
      db: database.db,
      now,
      secretBox,
      passwordHasher: createPasswordHasher(config.password.argon2, hashLimiter, metrics?.passwordHashes),
      keys,
      codePepper,
      accessTokenCache: new VerifiedTokenCache<AccessTokenClaims>(10_000),
      events: combineEventSinks(options.events ?? discardEvents, auditTrail, notifier, ...(metrics === undefined ? [] : [metrics.events])),
      auditTrail,
      kv,
      dpop: {
        nonces: createDpopNonces({ secret: dpopNonceSecret, windowSeconds: config.dpop.nonceWindowSeconds, now }),
        replay: createKeyValueDpopReplayStore(kv),
      },
      revokedSessions,
      sessionEndHooks: createSessionEndHooks((error) => logger.warn({ err: error }, 'a session ended, but work that follows it failed')),
      senders,
      background,
      metrics: metrics ?? noFlowMetrics,
      diagnostics: logger,
    };
    assembled.context = context;
    const maintenance = createMaintenance(context, { intervalMs: config.maintenanceIntervalSeconds * 1000, onError: (error) => logger.warn({ err: error }, 'background upkeep failed; it runs again at the next interval') });
    if (options.maintenance !== false) maintenance.start();
    // Sealed refresh answers are wiped within a second of their grace (also when the grace is off).
    const graceSweeper = startGraceAnswerSweeper(context);
    const { key: _secret, previousKeys: _previousSecrets, ...keyInfo } = encryptionKey;
    const openedKv = kv;
    const openedLease = lease;
    return {
      config,
      context,
      flows: bindFlows(context),
      database,
      kv,
      encryptionKey: { ...keyInfo, id: secretBox.currentKeyId, previousIds: configuredKeyIds.slice(1) },
      hashLimiter,
      metrics,
      migrationsApplied,
      maintenance,
      sharedStateLocation: config.redis === undefined ? 'in-process memory (one instance only)' : `Redis ${redactedUrl(config.redis.url)} (prefix ${config.redis.keyPrefix})`,
      async close() {
        closing = true;
        await maintenance.stop();
        await graceSweeper.stop();
        await background.flush();
        await auditTrail.flush();
        senders.close();
        await openedKv.close();
        await pendingReload;
        await openedLease?.release();
        await database.close();
      },
    };
  } catch (error) {
    await kv?.close();
    await lease?.release();
    await database.close();
    throw error;
  }
}

/**
 * Refuses to start when some stored secret is sealed under a key none of the configured ones is:
 * typically a previous key removed before `twofold keys rotate-encryption` had re-sealed it.
 */
async function refuseValuesSealedUnderMissingKeys(db: Kysely<Database>, secretBox: SecretBox, configuredKeyIds: string[]): Promise<void> {
  const missing = await countSealedValuesByKeyId(db, secretBox, { skipKeyIds: configuredKeyIds });
  if (missing.length === 0) return;
  const described = missing.map((usage) => `${usage.keyId} (${usage.total} value${usage.total === 1 ? '' : 's'})`).join(', ');
  throw new StartupError(
    `The database holds secrets sealed under encryption key id(s) ${described} that no configured key has ` +
      `(configured: ${configuredKeyIds.join(', ')}). Set TWOFOLD_ENCRYPTION_KEY to the key this database was created with, ` +
      'or, after a rotation, keep the old key in TWOFOLD_PREVIOUS_ENCRYPTION_KEYS until `twofold keys rotate-encryption` has re-sealed everything.',
  );
}

function startupFailure(what: string, config: TwofoldConfig): (error: unknown) => never {
  return (error) => {
    const variable = what === 'Redis' ? 'TWOFOLD_REDIS_URL' : 'TWOFOLD_DATABASE_URL';
    const location = what === 'Redis' ? redactedUrl(config.redis?.url ?? '') : config.database.kind === 'postgres' ? redactedUrl(config.database.url) : config.database.path;
    throw new StartupError(`Cannot use ${what} at ${location} (${variable}): ${(error as Error).message}`, { cause: error });
  };
}
