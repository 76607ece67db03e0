// The only reader of process.env in Twofold. Everything else receives a TwofoldConfig, so tests
// and library users build configurations without touching the environment.
import { resolve } from 'node:path';
import {
  configDefaults,
  type PostgresDatabaseConfig,
  type RedisConfig,
  defaultArgon2Parameters,
  defaultHashConcurrency,
  type RunMode,
  type SigningAlgorithm,
  type TwofoldConfig,
} from './schema.js';

type Environment = Record<string, string | undefined>;

/** A configuration mistake, named by the variable to fix; the CLI prints it without a stack. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: Environment = process.env): TwofoldConfig {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max) throw new ConfigError(name, `expected ${min}..${max}, got ${value}`);
    return value;
  };

  const mode = parseMode(read('NODE_ENV'));
  const port = read('TWOFOLD_PORT') !== undefined ? integer('TWOFOLD_PORT', configDefaults.port, 0, 65535) : integer('PORT', configDefaults.port, 0, 65535);
  const host = read('TWOFOLD_HOST') ?? configDefaults.host;
  const publicUrl = parsePublicUrl(read('TWOFOLD_PUBLIC_URL') ?? `http://localhost:${port}`);
  const dataDir = resolve(read('TWOFOLD_DATA_DIR') ?? configDefaults.dataDir);
  const encryptionKey = read('TWOFOLD_ENCRYPTION_KEY');

  if (mode === 'production') {
    if (!publicUrl.startsWith('https://')) {
      throw new ConfigError('TWOFOLD_PUBLIC_URL', `production mode needs an https:// public URL, got ${publicUrl}`);
    }
    if (encryptionKey === undefined) {
      throw new ConfigError(
        'TWOFOLD_ENCRYPTION_KEY',
        'production mode refuses a generated encryption key; set 32 random bytes, e.g. `openssl rand -base64 32`',
      );
    }
  }

  const config: TwofoldConfig = {
    mode,
    http: {
      host,
      port,
      bodyLimitBytes: integer('TWOFOLD_BODY_LIMIT_BYTES', configDefaults.bodyLimitBytes, 1024, 1024 * 1024),
    },
    publicUrl,
    issuer: publicUrl,
    audience: read('TWOFOLD_AUDIENCE') ?? publicUrl,
    clientId: read('TWOFOLD_CLIENT_ID') ?? configDefaults.clientId,
    serviceName: read('TWOFOLD_SERVICE_NAME') ?? configDefaults.serviceName,
    dataDir,
    database: parseDatabaseUrl(read('TWOFOLD_DATABASE_URL'), dataDir, {
      schema: parseIdentifier('TWOFOLD_DATABASE_SCHEMA', read('TWOFOLD_DATABASE_SCHEMA')),
      poolMax: integer('TWOFOLD_DATABASE_POOL_MAX', configDefaults.postgresPoolMax, 1, 1000),
      connectTimeoutMs: integer('TWOFOLD_DATABASE_CONNECT_TIMEOUT_MS', configDefaults.postgresConnectTimeoutMs, 100, 60_000),
      queryTimeoutMs: integer('TWOFOLD_DATABASE_QUERY_TIMEOUT_MS', configDefaults.postgresQueryTimeoutMs, 100, 600_000),
    }),
    redis: parseRedis(read('TWOFOLD_REDIS_URL'), {
      keyPrefix: read('TWOFOLD_REDIS_KEY_PREFIX') ?? configDefaults.redisKeyPrefix,
      connectTimeoutMs: integer('TWOFOLD_REDIS_CONNECT_TIMEOUT_MS', configDefaults.redisConnectTimeoutMs, 100, 60_000),
      commandTimeoutMs: integer('TWOFOLD_REDIS_COMMAND_TIMEOUT_MS', configDefaults.redisCommandTimeoutMs, 50, 60_000),
    }),
    throttle: {
      freeFailures: integer('TWOFOLD_THROTTLE_FREE_FAILURES', configDefaults.throttleFreeFailures, 1, 1000),
      maxDelaySeconds: integer('TWOFOLD_THROTTLE_MAX_DELAY_SECONDS', configDefaults.throttleMaxDelaySeconds, 1, 86400),
    },
    encryptionKey,
    tokens: {
      accessTokenTtlSeconds: integer('TWOFOLD_ACCESS_TOKEN_TTL_SECONDS', configDefaults.accessTokenTtlSeconds, 60, 900),
      mfaTokenTtlSeconds: integer('TWOFOLD_MFA_TOKEN_TTL_SECONDS', configDefaults.mfaTokenTtlSeconds, 30, 300),
      clockSkewSeconds: integer('TWOFOLD_CLOCK_SKEW_SECONDS', configDefaults.clockSkewSeconds, 0, 60),
      signingAlgorithm: parseSigningAlgorithm(read('TWOFOLD_SIGNING_ALG')),
    },
    sessions: {
      idleTimeoutSeconds: integer('TWOFOLD_SESSION_IDLE_TIMEOUT_SECONDS', configDefaults.idleTimeoutSeconds, 60, 86400),
      absoluteTimeoutSeconds: integer(
        'TWOFOLD_SESSION_ABSOLUTE_TIMEOUT_SECONDS',
        configDefaults.absoluteTimeoutSeconds,
        300,
        30 * 86400,
      ),
      stepUpMaxAgeSeconds: integer('TWOFOLD_STEP_UP_MAX_AGE_SECONDS', configDefaults.stepUpMaxAgeSeconds, 30, 86400),
    },
    mfa: {
      maxAttemptsPerToken: integer('TWOFOLD_MFA_MAX_ATTEMPTS', configDefaults.maxAttemptsPerToken, 1, 10),
      totpWindowSteps: integer('TWOFOLD_TOTP_WINDOW_STEPS', configDefaults.totpWindowSteps, 0, 2),
      recoveryCodeCount: integer('TWOFOLD_RECOVERY_CODE_COUNT', configDefaults.recoveryCodeCount, 5, 20),
    },
    password: {
      minLength: configDefaults.passwordMinLength,
      maxLength: configDefaults.passwordMaxLength,
      argon2: {
        memoryKib: integer('TWOFOLD_ARGON2_MEMORY_KIB', defaultArgon2Parameters.memoryKib, 1024, 4 * 1024 * 1024),
        timeCost: integer('TWOFOLD_ARGON2_TIME_COST', defaultArgon2Parameters.timeCost, 1, 20),
        parallelism: integer('TWOFOLD_ARGON2_PARALLELISM', defaultArgon2Parameters.parallelism, 1, 16),
      },
      hashConcurrency: integer('TWOFOLD_HASH_CONCURRENCY', defaultHashConcurrency(), 1, 256),
      hashQueueLimit: integer('TWOFOLD_HASH_QUEUE_LIMIT', configDefaults.hashQueueLimit, 0, 100000),
    },
    log: { level: parseLogLevel(read('TWOFOLD_LOG_LEVEL')) },
  };

  if (mode === 'production' && config.password.argon2.memoryKib < defaultArgon2Parameters.memoryKib) {
    throw new ConfigError('TWOFOLD_ARGON2_MEMORY_KIB', `production mode needs at least ${defaultArgon2Parameters.memoryKib} KiB (OWASP)`);
  }
  return config;
}

function parseMode(nodeEnv: string | undefined): RunMode {
  if (nodeEnv === 'production' || nodeEnv === 'test') return nodeEnv;
  return 'development';
}

function parsePublicUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('TWOFOLD_PUBLIC_URL', `not a URL: "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('TWOFOLD_PUBLIC_URL', `expected http:// or https://, got ${url.protocol}`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ConfigError('TWOFOLD_PUBLIC_URL', 'must not have a query or fragment');
  }
  return url.href.replace(/\/+$/, '');
}

function parseDatabaseUrl(
  raw: string | undefined,
  dataDir: string,
  postgres: Omit<PostgresDatabaseConfig, 'kind' | 'url'>,
): TwofoldConfig['database'] {
  if (raw === undefined) return { kind: 'sqlite', path: resolve(dataDir, 'twofold.db') };
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new ConfigError('TWOFOLD_DATABASE_URL', 'sqlite: needs a file path, e.g. sqlite:./data/twofold.db');
    return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
  }
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError('TWOFOLD_DATABASE_URL', 'not a valid postgres:// URL');
    }
    return { kind: 'postgres', url: raw, ...postgres };
  }
  throw new ConfigError('TWOFOLD_DATABASE_URL', `unsupported database URL scheme in "${raw.split(':')[0]}:"; use sqlite:<path> or postgres://…`);
}

function parseRedis(raw: string | undefined, options: Omit<RedisConfig, 'url'>): RedisConfig | undefined {
  if (raw === undefined) return undefined;
  if (!raw.startsWith('redis://') && !raw.startsWith('rediss://')) {
    throw new ConfigError('TWOFOLD_REDIS_URL', 'expected a redis:// or rediss:// URL');
  }
  return { url: raw, ...options };
}

/** Schema names go into SQL as identifiers: only plain ones are accepted. */
function parseIdentifier(variable: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) throw new ConfigError(variable, 'use lower-case letters, digits and _ (a plain SQL identifier)');
  return raw;
}

function parseSigningAlgorithm(raw: string | undefined): SigningAlgorithm {
  if (raw === undefined) return configDefaults.signingAlgorithm;
  if (raw === 'EdDSA' || raw === 'ES256') return raw;
  throw new ConfigError('TWOFOLD_SIGNING_ALG', `expected EdDSA or ES256 (never HS*), got "${raw}"`);
}

function parseLogLevel(raw: string | undefined): TwofoldConfig['log']['level'] {
  if (raw === undefined) return configDefaults.logLevel;
  const level = logLevels.find((candidate) => candidate === raw);
  if (level === undefined) throw new ConfigError('TWOFOLD_LOG_LEVEL', `expected one of ${logLevels.join(', ')}`);
  return level;
}
