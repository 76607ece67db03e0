// The shape of a Twofold configuration and its defaults. Durations carry their unit in the name;
// every default is the one docs/security-requirements.md decides (NIST AAL2, OWASP argon2id).
import { availableParallelism } from 'node:os';
// Read into the parameter types of the code that uses them: core knows nothing of configuration.
import type { Argon2Parameters } from '../core/password/hasher.js';
import type { SigningAlgorithm } from '../core/tokens/signing-key.js';
import type { ForwardAuthConfig } from './forward-auth.js';
import type { OidcRegistrationConfig } from './oidc-registration.js';

export type { Argon2Parameters, SigningAlgorithm };
export type RunMode = 'development' | 'production' | 'test';

/** An API registered with the OpenID Provider (TWOFOLD_OIDC_RESOURCES). */
export interface OidcResource {
  uri: string;
  scopes: string[];
}

export interface TwofoldConfig {
  mode: RunMode;
  http: {
    host: string;
    port: number;
    /** JSON bodies above this are refused before parsing (cheap rejection of huge passwords). */
    bodyLimitBytes: number;
    /** Proxies whose X-Forwarded-For is believed (IPs or CIDRs); none by default. */
    trustedProxies: string[];
    /** Origins allowed to call the API from a browser (CORS); none by default. */
    corsOrigins: string[];
  };
  /** Public base URL without a trailing slash: the token issuer and, later, the WebAuthn origin. */
  publicUrl: string;
  issuer: string;
  audience: string;
  clientId: string;
  /** Shown in authenticator apps and refused as a password ingredient. */
  serviceName: string;
  dataDir: string;
  database: SqliteDatabaseConfig | PostgresDatabaseConfig;
  /** Shared short-lived state and pub/sub for several instances; absent: in-process memory. */
  redis: RedisConfig | undefined;
  /** The in-process store used without Redis. */
  memoryStore: {
    /** Keys held at most; locks and waits are never evicted to stay under it (they expire). */
    maxKeys: number;
  };
  throttle: {
    /** Consecutive failures (password or second factor) allowed before delays start. */
    freeFailures: number;
    /** The longest delay the doubling reaches. */
    maxDelaySeconds: number;
    /** Consecutive failures that lock the account until a password reset or an admin unlock. */
    lockFailures: number;
    /** Failed attempts from one client network per 15 minutes before that network waits. */
    ipFailuresPerWindow: number;
    /** IPv6 clients are counted per network of this prefix length (one subscriber holds a /64). */
    ipv6PrefixBits: number;
  };
  /** Base64url/base64/hex of 32 bytes, when given explicitly; otherwise a dev key file is used. */
  encryptionKey: string | undefined;
  /**
   * Keys that only open (never seal): the keys rotated away from, kept until
   * `twofold keys rotate-encryption` has re-sealed every value under the current key. Same formats.
   */
  previousEncryptionKeys: string[];
  tokens: {
    accessTokenTtlSeconds: number;
    mfaTokenTtlSeconds: number;
    clockSkewSeconds: number;
    signingAlgorithm: SigningAlgorithm;
    /**
     * How long after a rotation the rotated refresh token may be presented again and get the same
     * answer (a lost response, two page loads at once); 0 turns the grace off. Reuse after it, or of
     * an older token, still revokes the family.
     */
    refreshReuseGraceSeconds: number;
  };
  sessions: {
    idleTimeoutSeconds: number;
    absoluteTimeoutSeconds: number;
    /** How recent `auth_time` must be for factor changes (step-up). */
    stepUpMaxAgeSeconds: number;
    /** Signed-in sessions one user may have at once; a sign-in beyond it ends the oldest. */
    maxPerUser: number;
  };
  mfa: {
    maxAttemptsPerToken: number;
    totpWindowSteps: number;
    recoveryCodeCount: number;
  };
  /** Factor types people may enroll and use; "recovery" stands for recovery codes. */
  factors: ReadonlySet<FactorKind>;
  /** One-time codes sent by SMS or e-mail. */
  otp: {
    ttlSeconds: number;
    maxAttemptsPerChallenge: number;
    /** At most one code to a phone or address per this many seconds (a resend). */
    resendIntervalSeconds: number;
    /** Codes to one phone or address per 15 minutes. */
    sendsPerDestination: number;
    /** Codes to one account per hour. */
    sendsPerAccount: number;
  };
  sms: SmsProviderConfig;
  email: EmailProviderConfig;
  /**
   * DPoP (RFC 9449): tokens bound to a key the client holds.
   * mode (TWOFOLD_DPOP): 'off' — DPoP headers are ignored and every token is a bearer token;
   * 'allowed' (the default) — a token request with a valid proof gets a bound token, one without
   * gets a bearer token; 'required' — token requests without a proof are refused.
   * requireNonce (TWOFOLD_DPOP_NONCE=required): proofs must carry a fresh server nonce (DPoP-Nonce).
   */
  dpop: {
    mode: 'off' | 'allowed' | 'required';
    requireNonce: boolean;
    /** Proof algorithms accepted (and published as dpop_signing_alg_values_supported). */
    algorithms: string[];
    /** How long one server nonce window lasts; a nonce is accepted for one to two windows. */
    nonceWindowSeconds: number;
  };
  webauthn: {
    rpId: string;
    rpName: string;
    origins: string[];
    /**
     * Trust roots for passkey attestation, one PEM certificate each (TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS).
     * Empty: attestation is not requested and every passkey is `swk`; otherwise a passkey is `hwk`
     * only when its attestation chains to one of these.
     */
    attestationRoots: string[];
    /**
     * A passkey sign-in (no password) whose assertion lacks UV (TWOFOLD_PASSKEY_WITHOUT_UV):
     * 'refuse' (the default: 401 user_verification_required), or 'aal1' — one factor, a token at aal1.
     */
    passkeyWithoutUv: 'refuse' | 'aal1';
    /**
     * Passkey sign-in challenges per client network per 5 minutes (TWOFOLD_PASSKEY_CHALLENGES_PER_CLIENT):
     * each is a key in the shared store for that long, asked for anonymously.
     */
    signInChallengesPerClient: number;
  };
  /** Remembered browsers ("trust this device"); 0 days turns the feature off. */
  trustedDeviceDays: number;
  /** Password reset codes: lifetime. */
  passwordResetTtlSeconds: number;
  /**
   * Where a self-service password reset code may go: the account's e-mail address, and (while
   * the SMS factor is enabled) the phone of its active SMS factor. Empty: reset is off.
   */
  passwordResetChannels: ReadonlyArray<PasswordResetChannel>;
  /** Life of an e-mail verification link. */
  emailVerificationTtlSeconds: number;
  /**
   * What one client network, one account or everyone together may cost per window (RC-02): every
   * budget is taken atomically before the message is sent or the row written.
   */
  budgets: {
    /** Messages per client network per hour, and by everyone together per hour, by channel. */
    sends: Record<'sms' | 'email', { perClientPerHour: number; perHour: number }>;
    /** Accounts created per client network per hour. */
    registrationsPerClientPerHour: number;
    /** "Forgot password" requests per client network per hour, and per username per hour. */
    passwordResetsPerClientPerHour: number;
    passwordResetsPerAccountPerHour: number;
    /** Verification mails to one address per 24 hours, whoever asks. */
    verificationMailsPerAddressPerDay: number;
    /** Security notices to one address per hour; the last one says that notices pause. */
    noticesPerRecipientPerHour: number;
  };
  notifications: { channel: 'email' } | { channel: 'off' } | { channel: 'webhook'; url: string; secret: string; timeoutMs: number };
  audit: {
    retentionDays: number;
    /** Events kept per user in each capped group (their own, others', routine); 0: no cap. */
    maxEventsPerUser: number;
    /** Identical events (user, type, IP, details) within this window become one row with a count. */
    coalesceSeconds: number;
  };
  /** How often the background upkeep runs (retiring timed-out sessions, pruning, caps). */
  maintenanceIntervalSeconds: number;
  admin: {
    /** An admin's deletion waits this many days (account disabled, cancellable); the upkeep deletes after. 0: at the next upkeep run. */
    deleteGraceDays: number;
  };
  oidc: {
    /** Serve the OpenID Provider (src/oidc/): authorization code + PKCE, logins by the hosted pages. */
    enabled: boolean;
    /** Resource servers (RFC 8707) the provider issues JWT access tokens for: the URI is the tokens' `aud`. */
    resources: OidcResource[];
    /** Dynamic client registration (RFC 7591/7592): off, with an initial access token, or public loopback clients only. */
    registration: OidcRegistrationConfig;
  };
  /** Forward-auth: reverse proxies ask Twofold about each request to the apps behind them. */
  forwardAuth: ForwardAuthConfig;
  pages: {
    /** Serve the hosted pages (sign up, sign in, account) beside the API. */
    enabled: boolean;
    /** Origins a `return_to` may send people back to after signing in. */
    allowedRedirectOrigins: string[];
  };
  password: {
    minLength: number;
    maxLength: number;
    argon2: Argon2Parameters;
    /** Hashes computed at once; each holds ~memoryKib of RAM and one libuv thread. */
    hashConcurrency: number;
    /** Hash requests allowed to wait; beyond this the server answers 503 server_busy. */
    hashQueueLimit: number;
  };
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    /** `auto` (absent: the same): pretty-printed on a terminal outside production, JSON otherwise. */
    format?: 'auto' | 'json' | 'pretty';
  };
  /** `GET /metrics` (Prometheus): off by default; with a token, only for `Authorization: Bearer <token>`. */
  metrics: { enabled: boolean; token: string | undefined };
  /**
   * Settings that start but are probably not what was meant (a NODE_ENV that is no mode), said at
   * start-up by the server's banner and the CLI. Absent in configurations built by hand.
   */
  warnings?: readonly string[];
}

export type PasswordResetChannel = 'email' | 'sms';

export const factorKinds = ['totp', 'sms', 'email', 'webauthn', 'recovery'] as const;
export type FactorKind = (typeof factorKinds)[number];

export type SmsProviderConfig =
  | { provider: 'outbox' }
  | { provider: 'webhook'; url: string; secret: string; timeoutMs: number }
  | { provider: 'twilio'; accountSid: string; authToken: string; from: string | undefined; messagingServiceSid: string | undefined; apiUrl: string; timeoutMs: number };

export type EmailProviderConfig = { provider: 'outbox'; from: string } | { provider: 'smtp'; url: string; from: string; timeoutMs: number };

export interface SqliteDatabaseConfig {
  kind: 'sqlite';
  path: string;
}

export interface PostgresDatabaseConfig {
  kind: 'postgres';
  url: string;
  /** Tables live in this schema (created if missing); undefined: the server's search_path. */
  schema: string | undefined;
  poolMax: number;
  connectTimeoutMs: number;
  /** Client-side bound on every query, so an unreachable server is a quick 503, not a hang. */
  queryTimeoutMs: number;
}

export interface RedisConfig {
  url: string;
  keyPrefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export const defaultArgon2Parameters: Argon2Parameters = { memoryKib: 19456, timeCost: 2, parallelism: 1 };

export function defaultHashConcurrency(): number {
  return Math.max(1, availableParallelism());
}

export const configDefaults = {
  port: 3000,
  host: 'localhost',
  bodyLimitBytes: 16 * 1024,
  clientId: 'twofold',
  serviceName: 'Twofold',
  dataDir: './data',
  accessTokenTtlSeconds: 600,
  mfaTokenTtlSeconds: 300,
  clockSkewSeconds: 60,
  refreshReuseGraceSeconds: 10,
  signingAlgorithm: 'EdDSA' as SigningAlgorithm,
  idleTimeoutSeconds: 30 * 60,
  absoluteTimeoutSeconds: 12 * 60 * 60,
  stepUpMaxAgeSeconds: 5 * 60,
  maxAttemptsPerToken: 5,
  totpWindowSteps: 1,
  recoveryCodeCount: 10,
  passwordMinLength: 12,
  passwordMaxLength: 128,
  hashQueueLimit: 64,
  postgresPoolMax: 10,
  postgresConnectTimeoutMs: 2000,
  postgresQueryTimeoutMs: 5000,
  redisKeyPrefix: 'twofold:',
  redisConnectTimeoutMs: 2000,
  redisCommandTimeoutMs: 1000,
  /** Measured ≈ 265 bytes of heap a key (key, value, Map and expiry-heap slots): ≈ 130 MB when full. */
  memoryStoreMaxKeys: 500_000,
  sessionsPerUser: 100,
  auditEventsPerUser: 1000,
  auditCoalesceSeconds: 60,
  maintenanceIntervalSeconds: 60,
  adminDeleteGraceDays: 30,
  throttleFreeFailures: 10,
  throttleMaxDelaySeconds: 15 * 60,
  throttleLockFailures: 100,
  throttleIpFailuresPerWindow: 100,
  throttleIpv6PrefixBits: 64,
  factors: 'totp,sms,webauthn,recovery',
  otpTtlSeconds: 300,
  otpMaxAttempts: 5,
  otpResendIntervalSeconds: 30,
  otpSendsPerDestination: 5,
  otpSendsPerAccount: 10,
  // Far above what a small deployment sends (an office behind one NAT signing in by SMS), far
  // below what a pumping script needs: 120 numbers from one client stop at 30.
  smsSendsPerClientPerHour: 30,
  smsSendsPerHour: 1000,
  emailSendsPerClientPerHour: 50,
  emailSendsPerHour: 5000,
  registrationsPerClientPerHour: 50,
  passwordResetsPerClientPerHour: 30,
  passwordResetsPerAccountPerHour: 3,
  verificationMailsPerAddressPerDay: 5,
  noticesPerRecipientPerHour: 10,
  emailVerificationTtlSeconds: 24 * 60 * 60,
  deliveryTimeoutMs: 5000,
  twilioApiUrl: 'https://api.twilio.com',
  logLevel: 'info' as TwofoldConfig['log']['level'],
};
