// The only reader of process.env in Twofold. Everything else receives a TwofoldConfig, so tests
// and library users build configurations without touching the environment.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  configDefaults,
  factorKinds,
  type EmailProviderConfig,
  type FactorKind,
  type OidcResource,
  type SmsProviderConfig,
  type PostgresDatabaseConfig,
  type RedisConfig,
  defaultArgon2Parameters,
  defaultHashConcurrency,
  type RunMode,
  type SigningAlgorithm,
  type TwofoldConfig,
  type PasswordResetChannel,
} from './schema.js';
import { ConfigError, ConfigErrors } from './config-error.js';
import { parseEncryptionKey } from './encryption-key.js';
import { defaultForwardAuthHeaders, parseForwardAuth } from './forward-auth.js';
import { outboxRefusals } from './outbox-uses.js';
import { productionRefusals } from './production-defaults.js';
import { defaultOidcRegistrationsPerClientPerHour, parseOidcRegistration } from './oidc-registration.js';

export { ConfigError, ConfigErrors } from './config-error.js';

type Environment = Record<string, string | undefined>;

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Reads the whole environment and reports every mistake in it at once (a ConfigErrors when there
 * are several, one per variable), so that a first start names everything to fix in one run.
 */
export function loadConfig(env: Environment = process.env): TwofoldConfig {
  const problems: ConfigError[] = [];
  const report = (problem: ConfigError) => {
    // One problem per variable: a value refused by its parser is not refused again for the fallback.
    if (!problems.some((earlier) => earlier.variable === problem.variable)) problems.push(problem);
  };
  /** The parsed value, or the fallback after reporting why it was refused (the build goes on). */
  const collect = <T>(parse: () => T, fallback: T): T => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) report(problem);
      return fallback;
    }
  };
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number =>
    collect(() => {
      const raw = read(name);
      if (raw === undefined) return fallback;
      if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
      const value = Number(raw);
      if (value < min || value > max) throw new ConfigError(name, `expected ${min}..${max}, got ${value}`);
      return value;
    }, fallback);

  const nodeEnv = read('NODE_ENV');
  const mode = parseMode(nodeEnv);
  const port = read('TWOFOLD_PORT') !== undefined ? integer('TWOFOLD_PORT', configDefaults.port, 0, 65535) : integer('PORT', configDefaults.port, 0, 65535);
  const host = read('TWOFOLD_HOST') ?? configDefaults.host;
  const publicUrl = collect(() => parsePublicUrl(read('TWOFOLD_PUBLIC_URL') ?? `http://localhost:${port}`), `http://localhost:${port}`);
  const dataDir = resolve(read('TWOFOLD_DATA_DIR') ?? configDefaults.dataDir);
  const encryptionKey = read('TWOFOLD_ENCRYPTION_KEY');
  const serviceName = read('TWOFOLD_SERVICE_NAME') ?? configDefaults.serviceName;

  // The key itself is read when the runtime starts; its form is checked here, with everything else.
  if (encryptionKey !== undefined) collect(() => parseEncryptionKey(encryptionKey), undefined);
  if (mode === 'production') {
    if (!publicUrl.startsWith('https://')) {
      report(new ConfigError('TWOFOLD_PUBLIC_URL', `production mode needs an https:// public URL, got ${publicUrl}`));
    }
    if (encryptionKey === undefined) {
      report(new ConfigError('TWOFOLD_ENCRYPTION_KEY', 'production mode refuses a generated encryption key; set 32 random bytes, e.g. `openssl rand -base64 32`'));
    }
  }
  const deliveryTimeoutMs = integer('TWOFOLD_DELIVERY_TIMEOUT_MS', configDefaults.deliveryTimeoutMs, 100, 60_000);

  const config: TwofoldConfig = {
    mode,
    http: {
      host,
      port,
      bodyLimitBytes: integer('TWOFOLD_BODY_LIMIT_BYTES', configDefaults.bodyLimitBytes, 1024, 1024 * 1024),
      trustedProxies: collect(() => parseTrustedProxies(read('TWOFOLD_TRUSTED_PROXIES')), []),
      corsOrigins: collect(() => parseOriginList('TWOFOLD_CORS_ORIGINS', read('TWOFOLD_CORS_ORIGINS')), []),
    },
    publicUrl,
    issuer: publicUrl,
    audience: read('TWOFOLD_AUDIENCE') ?? publicUrl,
    clientId: read('TWOFOLD_CLIENT_ID') ?? configDefaults.clientId,
    serviceName,
    dataDir,
    database: collect(
      () =>
        parseDatabaseUrl(read('TWOFOLD_DATABASE_URL'), dataDir, {
          schema: collect(() => parseIdentifier('TWOFOLD_DATABASE_SCHEMA', read('TWOFOLD_DATABASE_SCHEMA')), undefined),
          poolMax: integer('TWOFOLD_DATABASE_POOL_MAX', configDefaults.postgresPoolMax, 1, 1000),
          connectTimeoutMs: integer('TWOFOLD_DATABASE_CONNECT_TIMEOUT_MS', configDefaults.postgresConnectTimeoutMs, 100, 60_000),
          queryTimeoutMs: integer('TWOFOLD_DATABASE_QUERY_TIMEOUT_MS', configDefaults.postgresQueryTimeoutMs, 100, 600_000),
        }),
      { kind: 'sqlite', path: resolve(dataDir, 'twofold.db') },
    ),
    redis: collect(
      () =>
        parseRedis(read('TWOFOLD_REDIS_URL'), {
          keyPrefix: read('TWOFOLD_REDIS_KEY_PREFIX') ?? configDefaults.redisKeyPrefix,
          connectTimeoutMs: integer('TWOFOLD_REDIS_CONNECT_TIMEOUT_MS', configDefaults.redisConnectTimeoutMs, 100, 60_000),
          commandTimeoutMs: integer('TWOFOLD_REDIS_COMMAND_TIMEOUT_MS', configDefaults.redisCommandTimeoutMs, 50, 60_000),
        }),
      undefined,
    ),
    memoryStore: {
      maxKeys: integer('TWOFOLD_MEMORY_STORE_MAX_KEYS', configDefaults.memoryStoreMaxKeys, 1000, 100_000_000),
    },
    throttle: {
      freeFailures: integer('TWOFOLD_THROTTLE_FREE_FAILURES', configDefaults.throttleFreeFailures, 1, 1000),
      maxDelaySeconds: integer('TWOFOLD_THROTTLE_MAX_DELAY_SECONDS', configDefaults.throttleMaxDelaySeconds, 1, 86400),
      lockFailures: integer('TWOFOLD_THROTTLE_LOCK_FAILURES', configDefaults.throttleLockFailures, 2, 100000),
      ipFailuresPerWindow: integer('TWOFOLD_THROTTLE_IP_FAILURES', configDefaults.throttleIpFailuresPerWindow, 1, 1_000_000),
      ipv6PrefixBits: integer('TWOFOLD_THROTTLE_IPV6_PREFIX', configDefaults.throttleIpv6PrefixBits, 32, 128),
    },
    encryptionKey,
    previousEncryptionKeys: parseCommaList(read('TWOFOLD_PREVIOUS_ENCRYPTION_KEYS')),
    tokens: {
      accessTokenTtlSeconds: integer('TWOFOLD_ACCESS_TOKEN_TTL_SECONDS', configDefaults.accessTokenTtlSeconds, 60, 900),
      mfaTokenTtlSeconds: integer('TWOFOLD_MFA_TOKEN_TTL_SECONDS', configDefaults.mfaTokenTtlSeconds, 30, 300),
      clockSkewSeconds: integer('TWOFOLD_CLOCK_SKEW_SECONDS', configDefaults.clockSkewSeconds, 0, 60),
      signingAlgorithm: collect(() => parseSigningAlgorithm(read('TWOFOLD_SIGNING_ALG')), configDefaults.signingAlgorithm),
      // At most a minute: the same answer is handed out again for this long, and it must never
      // outlive the access token it carries (60 s at the shortest).
      refreshReuseGraceSeconds: integer('TWOFOLD_REFRESH_REUSE_GRACE_SECONDS', configDefaults.refreshReuseGraceSeconds, 0, 60),
    },
    sessions: {
      idleTimeoutSeconds: integer('TWOFOLD_SESSION_IDLE_TIMEOUT_SECONDS', configDefaults.idleTimeoutSeconds, 60, 86400),
      absoluteTimeoutSeconds: integer(
        'TWOFOLD_SESSION_ABSOLUTE_TIMEOUT_SECONDS',
        configDefaults.absoluteTimeoutSeconds,
        300,
        30 * 86400,
      ),
      stepUpMaxAgeSeconds: integer('TWOFOLD_STEP_UP_MAX_AGE_SECONDS', configDefaults.stepUpMaxAgeSeconds, 1, 86400),
      maxPerUser: integer('TWOFOLD_SESSIONS_PER_USER', configDefaults.sessionsPerUser, 1, 100_000),
    },
    mfa: {
      maxAttemptsPerToken: integer('TWOFOLD_MFA_MAX_ATTEMPTS', configDefaults.maxAttemptsPerToken, 1, 10),
      totpWindowSteps: integer('TWOFOLD_TOTP_WINDOW_STEPS', configDefaults.totpWindowSteps, 0, 2),
      recoveryCodeCount: integer('TWOFOLD_RECOVERY_CODE_COUNT', configDefaults.recoveryCodeCount, 5, 20),
    },
    factors: collect(() => parseFactors(read('TWOFOLD_FACTORS')), parseFactors(undefined)),
    otp: {
      ttlSeconds: integer('TWOFOLD_OTP_TTL_SECONDS', configDefaults.otpTtlSeconds, 60, 600),
      maxAttemptsPerChallenge: integer('TWOFOLD_OTP_MAX_ATTEMPTS', configDefaults.otpMaxAttempts, 1, 10),
      resendIntervalSeconds: integer('TWOFOLD_OTP_RESEND_INTERVAL_SECONDS', configDefaults.otpResendIntervalSeconds, 0, 600),
      sendsPerDestination: integer('TWOFOLD_OTP_SENDS_PER_DESTINATION', configDefaults.otpSendsPerDestination, 1, 1000),
      sendsPerAccount: integer('TWOFOLD_OTP_SENDS_PER_ACCOUNT', configDefaults.otpSendsPerAccount, 1, 1000),
    },
    sms: collect(() => parseSmsProvider(read, deliveryTimeoutMs), { provider: 'outbox' }),
    email: collect(() => parseEmailProvider(read, deliveryTimeoutMs, serviceName, publicUrl), parseEmailProvider(() => undefined, deliveryTimeoutMs, serviceName, publicUrl)),
    dpop: {
      mode: collect(() => parseDpopMode(read('TWOFOLD_DPOP')), 'allowed'),
      requireNonce: collect(() => parseDpopNonce(read('TWOFOLD_DPOP_NONCE')), false),
      algorithms: ['ES256', 'EdDSA'],
      nonceWindowSeconds: 60,
    },
    webauthn: {
      rpId: read('TWOFOLD_WEBAUTHN_RP_ID') ?? new URL(publicUrl).hostname,
      rpName: serviceName,
      origins: collect(() => parseOrigins(read('TWOFOLD_WEBAUTHN_ORIGINS'), publicUrl), parseOrigins(undefined, publicUrl)),
      attestationRoots: collect(() => readAttestationRoots(read('TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS')), []),
      passkeyWithoutUv: collect(() => parsePasskeyWithoutUv(read('TWOFOLD_PASSKEY_WITHOUT_UV')), 'refuse'),
      signInChallengesPerClient: integer('TWOFOLD_PASSKEY_CHALLENGES_PER_CLIENT', 300, 1, 1_000_000),
    },
    trustedDeviceDays: integer('TWOFOLD_TRUSTED_DEVICE_DAYS', 30, 0, 365),
    passwordResetTtlSeconds: integer('TWOFOLD_PASSWORD_RESET_TTL_SECONDS', 15 * 60, 60, 3600),
    passwordResetChannels: collect(() => parsePasswordResetChannels(read('TWOFOLD_PASSWORD_RESET')), parsePasswordResetChannels(undefined)),
    emailVerificationTtlSeconds: integer('TWOFOLD_EMAIL_VERIFICATION_TTL_SECONDS', configDefaults.emailVerificationTtlSeconds, 600, 7 * 86400),
    budgets: {
      sends: {
        sms: {
          perClientPerHour: integer('TWOFOLD_SMS_SENDS_PER_CLIENT', configDefaults.smsSendsPerClientPerHour, 1, 1_000_000),
          perHour: integer('TWOFOLD_SMS_SENDS_PER_HOUR', configDefaults.smsSendsPerHour, 1, 100_000_000),
        },
        email: {
          perClientPerHour: integer('TWOFOLD_EMAIL_SENDS_PER_CLIENT', configDefaults.emailSendsPerClientPerHour, 1, 1_000_000),
          perHour: integer('TWOFOLD_EMAIL_SENDS_PER_HOUR', configDefaults.emailSendsPerHour, 1, 100_000_000),
        },
      },
      registrationsPerClientPerHour: integer('TWOFOLD_REGISTRATIONS_PER_CLIENT', configDefaults.registrationsPerClientPerHour, 1, 1_000_000),
      passwordResetsPerClientPerHour: integer('TWOFOLD_PASSWORD_RESETS_PER_CLIENT', configDefaults.passwordResetsPerClientPerHour, 1, 1_000_000),
      passwordResetsPerAccountPerHour: integer('TWOFOLD_PASSWORD_RESETS_PER_ACCOUNT', configDefaults.passwordResetsPerAccountPerHour, 1, 1_000_000),
      verificationMailsPerAddressPerDay: integer('TWOFOLD_EMAIL_VERIFICATIONS_PER_ADDRESS', configDefaults.verificationMailsPerAddressPerDay, 1, 1000),
      noticesPerRecipientPerHour: integer('TWOFOLD_NOTICES_PER_RECIPIENT', configDefaults.noticesPerRecipientPerHour, 1, 1000),
    },
    notifications: collect(() => parseNotifications(read, deliveryTimeoutMs), { channel: 'email' }),
    audit: {
      retentionDays: integer('TWOFOLD_AUDIT_RETENTION_DAYS', 365, 0, 36500),
      maxEventsPerUser: integer('TWOFOLD_AUDIT_EVENTS_PER_USER', configDefaults.auditEventsPerUser, 0, 10_000_000),
      coalesceSeconds: integer('TWOFOLD_AUDIT_COALESCE_SECONDS', configDefaults.auditCoalesceSeconds, 0, 86400),
    },
    maintenanceIntervalSeconds: integer('TWOFOLD_MAINTENANCE_INTERVAL_SECONDS', configDefaults.maintenanceIntervalSeconds, 1, 86400),
    admin: {
      deleteGraceDays: integer('TWOFOLD_ADMIN_DELETE_GRACE_DAYS', configDefaults.adminDeleteGraceDays, 0, 3650),
    },
    oidc: {
      enabled: collect(() => parseBoolean('TWOFOLD_OIDC', read('TWOFOLD_OIDC'), false), false),
      resources: collect(() => parseOidcResources(read('TWOFOLD_OIDC_RESOURCES')), []),
      registration: collect(() => parseOidcRegistration(read), { mode: 'off', initialAccessToken: undefined, perClientPerHour: defaultOidcRegistrationsPerClientPerHour }),
    },
    forwardAuth: collect(() => parseForwardAuth(read, publicUrl, read('TWOFOLD_TRUSTED_PROXIES') !== undefined), { enabled: false, rulesFile: undefined, domains: [], headers: defaultForwardAuthHeaders }),
    pages: {
      enabled: collect(() => parseBoolean('TWOFOLD_PAGES', read('TWOFOLD_PAGES'), true), true),
      allowedRedirectOrigins: collect(() => parseOriginList('TWOFOLD_ALLOWED_REDIRECTS', read('TWOFOLD_ALLOWED_REDIRECTS')), []),
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
    log: {
      level: collect(() => parseLogLevel(read('TWOFOLD_LOG_LEVEL')), configDefaults.logLevel),
      format: collect(() => parseLogFormat(read('TWOFOLD_LOG_FORMAT')), 'auto'),
    },
    metrics: collect(() => parseMetrics(read('TWOFOLD_METRICS'), read('TWOFOLD_METRICS_TOKEN')), { enabled: false, token: undefined }),
    warnings: nodeEnvWarnings(nodeEnv),
  };

  for (const channel of ['sms', 'email'] as const) {
    const { perClientPerHour, perHour } = config.budgets.sends[channel];
    // A client allowed more than everyone together would only ever meet the global budget.
    if (perClientPerHour > perHour) {
      const name = channel.toUpperCase();
      report(new ConfigError(`TWOFOLD_${name}_SENDS_PER_CLIENT`, `${perClientPerHour} per client is above TWOFOLD_${name}_SENDS_PER_HOUR (${perHour}) for everyone together`));
    }
  }
  if (mode === 'production') {
    for (const refusal of outboxRefusals(config)) report(new ConfigError(refusal.variable, refusal.message));
    if (config.password.argon2.memoryKib < defaultArgon2Parameters.memoryKib) {
      report(new ConfigError('TWOFOLD_ARGON2_MEMORY_KIB', `production mode needs at least ${defaultArgon2Parameters.memoryKib} KiB (OWASP)`));
    }
    if (config.metrics.enabled && config.metrics.token === undefined) {
      // /metrics is served on the public port: without a token, anyone could watch sign-in volume,
      // failure rates and lockouts of the server as they happen.
      report(new ConfigError('TWOFOLD_METRICS_TOKEN', `production mode serves /metrics only behind a token; set one of at least ${metricsTokenMinLength} characters, e.g. \`openssl rand -hex 32\``));
    }
    for (const refusal of productionRefusals(config)) report(new ConfigError(refusal.variable, refusal.message));
  }
  const [first, ...more] = problems;
  if (first !== undefined) throw more.length === 0 ? first : new ConfigErrors([first, ...more]);
  return config;
}

/** NODE_ENV names the mode; anything but these three is a typo that would quietly mean development. */
const knownNodeEnvs = ['production', 'development', 'test'];

function nodeEnvWarnings(nodeEnv: string | undefined): string[] {
  if (nodeEnv === undefined || knownNodeEnvs.includes(nodeEnv)) return [];
  return [
    `NODE_ENV="${nodeEnv.slice(0, 40)}" is neither production, development nor test: running in development mode (development defaults apply); set NODE_ENV=production for a real deployment`,
  ];
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

function parseFactors(raw: string | undefined): ReadonlySet<FactorKind> {
  const names = (raw ?? configDefaults.factors).split(',').map((name) => name.trim()).filter((name) => name !== '');
  const factors = new Set<FactorKind>();
  for (const name of names) {
    const kind = factorKinds.find((candidate) => candidate === name);
    if (kind === undefined) throw new ConfigError('TWOFOLD_FACTORS', `unknown factor "${name}"; choose from ${factorKinds.join(', ')}`);
    factors.add(kind);
  }
  if (![...factors].some((kind) => kind !== 'recovery' && kind !== 'email')) {
    throw new ConfigError('TWOFOLD_FACTORS', 'enable at least one of totp, sms or webauthn: e-mail codes and recovery codes alone are not a second factor');
  }
  return factors;
}

type Reader = (name: string) => string | undefined;

function required(read: Reader, name: string, why: string): string {
  const value = read(name);
  if (value === undefined) throw new ConfigError(name, `required ${why}`);
  return value;
}

/** Runs every read, then throws their mistakes together: a provider's missing settings all at once. */
function allOf<T extends readonly unknown[]>(...reads: { [K in keyof T]: () => T[K] }): T {
  const problems: ConfigError[] = [];
  const values = reads.map((readOne) => {
    try {
      return readOne();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  });
  const [first, ...more] = problems;
  if (first !== undefined) throw more.length === 0 ? first : new ConfigErrors([first, ...more]);
  return values as unknown as T;
}

function webhookSecret(read: Reader, name: string, why: string): string {
  const secret = required(read, name, why);
  if (secret.length < 16) throw new ConfigError(name, 'use at least 16 characters');
  return secret;
}

/**
 * An http(s) URL. A refused value is repeated only when it cannot hold a secret (an origin):
 * webhook and API URLs often carry a token in their path or query, and errors reach the logs.
 */
function parseHttpUrl(variable: string, raw: string, options: { repeatValue: boolean } = { repeatValue: false }): string {
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return raw;
  } catch {
    // reported below
  }
  throw new ConfigError(variable, `expected an http(s) URL${options.repeatValue ? `, got "${raw.slice(0, 100)}"` : ' (the value is not repeated here: it may hold a secret)'}`);
}

function parseSmsProvider(read: Reader, timeoutMs: number): SmsProviderConfig {
  const provider = read('TWOFOLD_SMS_PROVIDER') ?? 'outbox';
  if (provider === 'outbox') return { provider };
  if (provider === 'webhook') {
    const [url, secret] = allOf(
      () => parseHttpUrl('TWOFOLD_SMS_WEBHOOK_URL', required(read, 'TWOFOLD_SMS_WEBHOOK_URL', 'with TWOFOLD_SMS_PROVIDER=webhook')),
      () => webhookSecret(read, 'TWOFOLD_SMS_WEBHOOK_SECRET', 'with TWOFOLD_SMS_PROVIDER=webhook (the HMAC key the receiver checks)'),
    );
    return { provider, url, secret, timeoutMs };
  }
  if (provider === 'twilio') {
    const from = read('TWOFOLD_TWILIO_FROM');
    const messagingServiceSid = read('TWOFOLD_TWILIO_MESSAGING_SERVICE_SID');
    const [accountSid, authToken, apiUrl] = allOf(
      () => required(read, 'TWOFOLD_TWILIO_ACCOUNT_SID', 'with TWOFOLD_SMS_PROVIDER=twilio'),
      () => required(read, 'TWOFOLD_TWILIO_AUTH_TOKEN', 'with TWOFOLD_SMS_PROVIDER=twilio'),
      () => parseHttpUrl('TWOFOLD_TWILIO_API_URL', read('TWOFOLD_TWILIO_API_URL') ?? configDefaults.twilioApiUrl).replace(/\/+$/, ''),
      () => {
        if (from === undefined && messagingServiceSid === undefined) {
          throw new ConfigError('TWOFOLD_TWILIO_FROM', 'set the sending number (or TWOFOLD_TWILIO_MESSAGING_SERVICE_SID)');
        }
      },
    );
    return { provider, accountSid, authToken, from, messagingServiceSid, apiUrl, timeoutMs };
  }
  throw new ConfigError('TWOFOLD_SMS_PROVIDER', `expected outbox, webhook or twilio, got "${provider}"`);
}

function parseEmailProvider(read: Reader, timeoutMs: number, serviceName: string, publicUrl: string): EmailProviderConfig {
  const provider = read('TWOFOLD_EMAIL_PROVIDER') ?? 'outbox';
  const from = read('TWOFOLD_EMAIL_FROM') ?? `${serviceName} <no-reply@${new URL(publicUrl).hostname}>`;
  if (provider === 'outbox') return { provider, from };
  if (provider === 'smtp') {
    const url = required(read, 'TWOFOLD_SMTP_URL', 'with TWOFOLD_EMAIL_PROVIDER=smtp, e.g. smtps://user:password@smtp.example.com');
    if (!/^smtps?:\/\//.test(url)) throw new ConfigError('TWOFOLD_SMTP_URL', 'expected smtp:// or smtps://');
    return { provider, url, from, timeoutMs };
  }
  throw new ConfigError('TWOFOLD_EMAIL_PROVIDER', `expected outbox or smtp, got "${provider}"`);
}

/** `refuse` (default) or `aal1`: what a passkey sign-in without user verification gets. */
function parsePasskeyWithoutUv(raw: string | undefined): 'refuse' | 'aal1' {
  const value = raw?.toLowerCase() ?? 'refuse';
  if (value === 'refuse' || value === 'aal1') return value;
  throw new ConfigError('TWOFOLD_PASSKEY_WITHOUT_UV', `expected refuse or aal1, got "${raw}"`);
}

/** `off`, `allowed` (default) or `required`: whether token requests may or must carry a DPoP proof. */
function parseDpopMode(raw: string | undefined): 'off' | 'allowed' | 'required' {
  const value = raw?.toLowerCase() ?? 'allowed';
  if (value === 'off' || value === 'allowed' || value === 'required') return value;
  throw new ConfigError('TWOFOLD_DPOP', `expected off, allowed or required, got "${raw}"`);
}

/** `off` (default) or `required`: whether DPoP proofs must carry a server nonce. */
function parseDpopNonce(raw: string | undefined): boolean {
  const value = raw?.toLowerCase() ?? 'off';
  if (value === 'off' || value === 'required') return value === 'required';
  throw new ConfigError('TWOFOLD_DPOP_NONCE', `expected off or required, got "${raw}"`);
}

function parseNotifications(read: Reader, timeoutMs: number): TwofoldConfig['notifications'] {
  const channel = read('TWOFOLD_NOTIFY') ?? 'email';
  if (channel === 'email' || channel === 'off') return { channel };
  if (channel === 'webhook') {
    const [url, secret] = allOf(
      () => parseHttpUrl('TWOFOLD_NOTIFY_WEBHOOK_URL', required(read, 'TWOFOLD_NOTIFY_WEBHOOK_URL', 'with TWOFOLD_NOTIFY=webhook')),
      () => webhookSecret(read, 'TWOFOLD_NOTIFY_WEBHOOK_SECRET', 'with TWOFOLD_NOTIFY=webhook (the HMAC key the receiver checks)'),
    );
    return { channel, url, secret, timeoutMs };
  }
  throw new ConfigError('TWOFOLD_NOTIFY', `expected email, webhook or off, got "${channel}"`);
}

/** `email,sms` (the default), `email`, `sms`, or `off`: where self-service reset codes may go. */
function parsePasswordResetChannels(raw: string | undefined): PasswordResetChannel[] {
  if (raw?.toLowerCase() === 'off') return [];
  const channels: PasswordResetChannel[] = [];
  for (const name of parseCommaList(raw ?? 'email,sms')) {
    const channel = name === 'email' || name === 'sms' ? name : undefined;
    if (channel === undefined) throw new ConfigError('TWOFOLD_PASSWORD_RESET', `expected email, sms, both (email,sms) or off, got "${name}"`);
    if (!channels.includes(channel)) channels.push(channel);
  }
  // Turning reset off is said in words, never the accident of an empty list.
  if (channels.length === 0) throw new ConfigError('TWOFOLD_PASSWORD_RESET', 'list email, sms or both, or write off');
  return channels;
}

const scopeToken = /^[\x21\x23-\x2b\x2d-\x5b\x5d-\x7e]+$/; // RFC 6749 3.3, without the comma that separates entries
const providerScopes = new Set(['openid', 'offline_access', 'email']);
const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The OpenID Provider's resource servers: entries separated by commas, each the resource URI
 * (RFC 8707: absolute, no fragment; https, http only for localhost) and its scopes, by spaces —
 * "https://api.example.com orders:read orders:write, https://billing.example.com invoices". The
 * URI is kept exactly as written: it is the `resource` a client sends and the tokens' `aud`.
 */
function parseOidcResources(raw: string | undefined): OidcResource[] {
  const variable = 'TWOFOLD_OIDC_RESOURCES';
  const resources: OidcResource[] = [];
  for (const entry of parseCommaList(raw)) {
    const [uri = '', ...scopes] = entry.split(/\s+/);
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new ConfigError(variable, `"${uri}" is not an absolute URI`);
    }
    if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHosts.has(url.hostname))) || uri.includes('#') || url.username !== '' || url.password !== '') {
      throw new ConfigError(variable, `"${uri}" must be an https:// URI (http:// only for localhost) without a fragment or credentials`);
    }
    if (resources.some((resource) => resource.uri === uri)) throw new ConfigError(variable, `"${uri}" is listed twice`);
    if (scopes.length === 0) throw new ConfigError(variable, `"${uri}" needs at least one scope after it, separated by spaces`);
    for (const scope of scopes) {
      if (!scopeToken.test(scope) || providerScopes.has(scope)) throw new ConfigError(variable, `"${scope}" (for ${uri}) is not a scope a resource can have`);
    }
    resources.push({ uri, scopes: [...new Set(scopes)] });
  }
  return resources;
}

/** Entries are checked where they are used (a key list by resolveEncryptionKey). */
function parseCommaList(raw: string | undefined): string[] {
  return (raw ?? '').split(',').map((value) => value.trim()).filter((value) => value !== '');
}

function parseBoolean(variable: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(variable, `expected true or false, got "${raw}"`);
}

/** Exact origins only (scheme, host, port): a return_to or a CORS request must match one entirely. */
function parseOriginList(variable: string, raw: string | undefined): string[] {
  const origins: string[] = [];
  for (const entry of (raw ?? '').split(',').map((value) => value.trim()).filter((value) => value !== '')) {
    const url = new URL(parseHttpUrl(variable, entry, { repeatValue: true }));
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '') throw new ConfigError(variable, `list origins only, like https://app.example.com (got "${entry}")`);
    origins.push(url.origin);
  }
  return origins;
}

const ipv4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** IPs or CIDR ranges (v4 or v6) of the proxies in front of Twofold, e.g. "10.0.0.0/8, 127.0.0.1". */
function parseTrustedProxies(raw: string | undefined): string[] {
  const entries = (raw ?? '').split(',').map((value) => value.trim()).filter((value) => value !== '');
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const validAddress = ipv4.test(address) || (address.includes(':') && /^[0-9a-fA-F:.]+$/.test(address));
    const maxPrefix = address.includes(':') ? 128 : 32;
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (!validAddress || !validPrefix || extra !== undefined) throw new ConfigError('TWOFOLD_TRUSTED_PROXIES', `expected IP addresses or CIDR ranges, got "${entry}"`);
  }
  return entries;
}

function parseOrigins(raw: string | undefined, publicUrl: string): string[] {
  const origins = new Set([new URL(publicUrl).origin]);
  for (const origin of (raw ?? '').split(',').map((value) => value.trim()).filter((value) => value !== '')) {
    origins.add(new URL(parseHttpUrl('TWOFOLD_WEBAUTHN_ORIGINS', origin, { repeatValue: true })).origin);
  }
  return [...origins];
}

const pemCertificate = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----/g;

/**
 * PEM files (comma-separated paths), each holding one or more certificates: the roots a passkey's
 * attestation must chain to for `hwk`. A file that is missing or holds no certificate stops the
 * start: an operator who meant to trust a vendor must not silently get `swk` for every key.
 */
function readAttestationRoots(raw: string | undefined): string[] {
  const variable = 'TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS';
  const roots = new Map<string, string>();
  for (const path of parseCommaList(raw)) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(variable, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    const blocks = text.match(pemCertificate) ?? [];
    if (blocks.length === 0) throw new ConfigError(variable, `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    blocks.forEach((block, index) => {
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(block);
      } catch {
        throw new ConfigError(variable, `certificate ${index + 1} in ${path} is not a valid X.509 certificate`);
      }
      // An attestation chain ends below its anchor: a leaf listed here could never be reached.
      if (!certificate.ca) throw new ConfigError(variable, `certificate ${index + 1} in ${path} (${certificate.subject.replace(/\n/g, ', ')}) is not a CA certificate; list the root your authenticators' attestations chain to`);
      roots.set(certificate.fingerprint256, certificate.toString());
    });
  }
  return [...roots.values()];
}

/** What a Bearer header can carry (RFC 6750 b64token), so the configured token can be sent at all. */
const bearerTokenShape = /^[A-Za-z0-9\-._~+/]+=*$/;
export const metricsTokenMinLength = 16;

/**
 * TWOFOLD_METRICS turns the endpoint on; a TWOFOLD_METRICS_TOKEN alone turns it on behind the
 * token. An explicit TWOFOLD_METRICS=off wins over a token (switch it off without removing a secret).
 */
function parseMetrics(rawEnabled: string | undefined, token: string | undefined): TwofoldConfig['metrics'] {
  const enabled = parseBoolean('TWOFOLD_METRICS', rawEnabled, token !== undefined);
  if (token !== undefined) {
    if (!bearerTokenShape.test(token)) throw new ConfigError('TWOFOLD_METRICS_TOKEN', 'use letters, digits and - . _ ~ + / (it is sent as a Bearer token)');
    if (token.length < metricsTokenMinLength) throw new ConfigError('TWOFOLD_METRICS_TOKEN', `use at least ${metricsTokenMinLength} characters`);
  }
  return { enabled, token: enabled ? token : undefined };
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

function parseLogFormat(raw: string | undefined): NonNullable<TwofoldConfig['log']['format']> {
  if (raw === undefined) return 'auto';
  if (raw === 'auto' || raw === 'json' || raw === 'pretty') return raw;
  throw new ConfigError('TWOFOLD_LOG_FORMAT', `expected auto, json or pretty, got "${raw.slice(0, 40)}"`);
}
