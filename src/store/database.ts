// Table types for Kysely. Times are integer milliseconds since the epoch (one representation
// on SQLite and PostgreSQL alike); JSON values are stored as text.
import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction } from 'kysely';

export interface UsersTable {
  id: string;
  /** NFKC, lower-cased; unique. */
  username: string;
  email: string | null;
  phone: string | null;
  password_hash: string;
  /** Consecutive failed password or second-factor attempts; reset by a completed login. */
  failed_attempts: Generated<number>;
  created_at: number;
  updated_at: number;
  disabled_at: number | null;
  /** Set when consecutive failures reached the lock threshold; cleared by a reset or an admin. */
  locked_at: number | null;
  /**
   * When the password was set, changed or reset, a factor activated or removed, or an administrator
   * reset the factors; strictly increasing. A pending login whose password step saw another value
   * is void (RC-03). Null: nothing changed since the column was added.
   */
  credentials_changed_at: number | null;
  /** When the owner of `email` proved it (a verification link); null until then and after a change. */
  email_verified_at: number | null;
  /** When the person said "Not now" to a passkey that signs in alone; the offer stays away for a while after. */
  passkey_offer_dismissed_at: number | null;
}

export type FactorType = 'totp' | 'sms' | 'email' | 'webauthn';
export type FactorStatus = 'pending' | 'active';

export interface FactorsTable {
  id: string;
  user_id: string;
  type: FactorType;
  label: string | null;
  status: FactorStatus;
  /** secretbox envelope, AAD "totp|<factor id>|<user id>". */
  secret_ciphertext: string | null;
  /** Where SMS / e-mail codes go (E.164 or an address); verified once the factor is active. */
  destination: string | null;
  /** Highest TOTP step accepted; a code for this step or an earlier one is a replay. */
  last_used_step: Generated<number>;
  created_at: number;
  activated_at: number | null;
  last_used_at: number | null;
  /** The session that started enrolling this factor: only it may confirm the factor. */
  session_id: string | null;
}

export interface WebauthnCredentialsTable {
  factor_id: string;
  /** base64url credential id, unique across all users. */
  credential_id: string;
  /** base64url COSE public key. */
  public_key: string;
  sign_count: number;
  /** JSON array of transports the client reported (known names only): a hint for its prompts. */
  transports: string | null;
  /** The BE flag at registration: 'multiDevice' (BE=1) or 'singleDevice'. A client's claim unless attested. */
  device_type: string;
  backed_up: number;
  created_at: number;
  /** The attestation format that verified at registration; null for credentials registered before it was recorded. */
  attestation_format: string | null;
  /** SHA-256 (hex) of the configured root the attestation chained to; null: not a proven hardware key. */
  attestation_root_sha256: string | null;
  /** The authenticator model, only when a trusted attestation vouched for it. */
  aaguid: string | null;
  /** 1: a discoverable credential (may sign in alone); 0: not; null: registered before this was asked. */
  discoverable: number | null;
  /** When a counter that did not move forward locked it (ms); null: usable. */
  locked_at: number | null;
}

export type ChallengeKind = 'otp' | 'webauthn';
export type ChallengePurpose = 'enroll' | 'login' | 'step_up';

export interface ChallengesTable {
  id: string;
  user_id: string;
  factor_id: string;
  /** The session the challenge belongs to: the pending login, or the session stepping up. */
  session_id: string;
  kind: ChallengeKind;
  purpose: ChallengePurpose;
  /** OTP: HMAC of the code (bound to this challenge id). WebAuthn: the challenge, base64url. */
  secret: string;
  attempts: Generated<number>;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  /** A newer challenge for the same factor and session replaced this one (a resend). */
  superseded_at: number | null;
}

export interface OutboxTable {
  id: string;
  channel: 'sms' | 'email';
  destination: string;
  purpose: string;
  /** Secretbox envelope (AAD "outbox|<id>") of the message's subject and text: never a code in clear. */
  content_ciphertext: string;
  created_at: number;
  /** When the message stops mattering (its code expires); the outbox deletes it after. */
  expires_at: number;
}

export interface PasswordResetsTable {
  id: string;
  /**
   * HMAC of the username asked for, under the server pepper: one row per name asked about, whether
   * an account has it or not (so both cost the same write), never the name typed in clear.
   */
  account_hash: string;
  /** The account, when the name is one; null for names nobody has (such a row never resets anything). */
  user_id: string | null;
  /** HMAC-SHA256 of the reset code under the server pepper. */
  code_hash: string;
  attempts: Generated<number>;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface EmailVerificationsTable {
  id: string;
  user_id: string;
  /** The address the link was sent to: it verifies only while the account still has this address. */
  email: string;
  /** SHA-256 of the token (256 random bits) in the link. */
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface TrustedDevicesTable {
  id: string;
  user_id: string;
  /** SHA-256 of the device token (256 random bits). */
  token_hash: string;
  label: string | null;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface SecurityEventsTable {
  id: string;
  type: string;
  user_id: string | null;
  session_id: string | null;
  factor_id: string | null;
  ip: string | null;
  user_agent: string | null;
  /** JSON object of non-secret details. */
  details: string | null;
  created_at: number;
  /** How many identical events (user, type, IP, details) this row stands for (coalesced). */
  repeat_count: Generated<number>;
  /** When the last of them happened; null: only once. */
  last_at: number | null;
  /** Which per-user cap the row counts against; 'kept' rows are never pruned by a cap. */
  cap_group: Generated<AuditCapGroup>;
}

/**
 * 'own': what the user did with their credentials (sign-ins, sessions, factors in use);
 * 'others': what anyone can cause by naming the user (failed passwords, reset requests);
 * 'routine': high-volume own events (token refreshes), capped apart so they never push sign-ins out;
 * 'kept': account changes (locks, password, factors): pruned only by retention, never by a cap.
 */
export type AuditCapGroup = 'own' | 'others' | 'routine' | 'kept';

export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  /** HMAC-SHA256 under the server pepper; the code itself is never stored. */
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export type SessionState = 'pending' | 'active' | 'revoked';

export interface SessionsTable {
  id: string;
  user_id: string;
  state: SessionState;
  /** jti of the one mfa_token that may complete this pending session; cleared when used. */
  mfa_jti: string | null;
  /** Second-factor attempts made with this session's mfa_token. */
  mfa_attempts: Generated<number>;
  /** JSON array of RFC 8176 method names. */
  amr: string;
  acr: string;
  auth_time: number | null;
  client_id: string;
  ip: string | null;
  user_agent: string | null;
  created_at: number;
  /** Pending: when the mfa_token dies. Active: when the session dies at the latest (absolute). */
  expires_at: number;
  last_active_at: number;
  revoked_at: number | null;
  revoke_reason: string | null;
  /** The user's credentials_changed_at as this login's password step saw it (RC-03). */
  credentials_changed_at: number | null;
  /** DPoP: the thumbprint of the key this session is bound to, null when unbound (migration 0021). */
  dpop_jkt: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface RefreshTokensTable {
  id: string;
  /** The family: every rotation of a session's refresh token shares its session. */
  session_id: string;
  /** SHA-256 of the opaque token, base64url. */
  token_hash: string;
  parent_id: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
  /**
   * The answer this token's rotation gave (new refresh and access token), a secretbox envelope
   * kept only for the reuse grace after `used_at`; null otherwise (migration 0012).
   */
  grace_answer_ciphertext: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  /** secretbox envelope of the private JWK, AAD "signing-key|<kid>". */
  private_ciphertext: string;
  created_at: number;
  /** When it stopped signing; it stays published until every token it signed has expired. */
  retired_at: number | null;
}

export interface ServerSecretsTable {
  name: string;
  /** secretbox envelope, AAD "server-secret|<name>". */
  ciphertext: string;
  created_at: number;
}

export interface InstanceLeasesTable {
  name: string;
  /** A random id of the process holding the lease. */
  holder: string;
  /** Where the holder runs: a holder on this host whose process is gone can be replaced at once. */
  host: string;
  pid: number;
  /** Wall-clock ms; a lease not renewed by then may be taken over. */
  expires_at: number;
}

/** The OpenID Provider's state (src/oidc/adapter.ts): one row per model kind and id. */
export interface OidcPayloadsTable {
  kind: string;
  id: string;
  /** The provider's own JSON for the row. */
  payload: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  /** ms; null: never expires (a registered client). */
  expires_at: number | null;
  /** ms; set once, by the one consume that wins. */
  consumed_at: number | null;
  /** A client's secret, sealed (migration 0017): a column, so that key rotation re-seals it. */
  sealed_secret: string | null;
}

/** The Twofold session an OpenID Provider grant was made in (migration 0016). */
/** A forward-auth cookie (migration 0022): the SHA-256 of its token, standing for a Twofold session on one domain. */
export interface ForwardAuthSessionsTable {
  token_hash: string;
  session_id: string;
  domain: string;
  created_at: number;
}

export interface OidcSessionGrantsTable {
  /** The provider's grant id. */
  id: string;
  session_id: string;
  client_id: string;
  user_id: string;
  /** ms; the grant's own expiry. */
  expires_at: number;
}

/** Which user of another system an import made into which Twofold user (the import ledger). */
export interface ImportedUsersTable {
  /** The source format: better-auth, supabase, auth0, keycloak, csv. */
  source: string;
  /** The user's id in that system. */
  source_id: string;
  user_id: string;
  imported_at: number;
}

export interface Database {
  users: UsersTable;
  factors: FactorsTable;
  recovery_codes: RecoveryCodesTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  signing_keys: SigningKeysTable;
  server_secrets: ServerSecretsTable;
  webauthn_credentials: WebauthnCredentialsTable;
  challenges: ChallengesTable;
  outbox: OutboxTable;
  security_events: SecurityEventsTable;
  password_resets: PasswordResetsTable;
  email_verifications: EmailVerificationsTable;
  trusted_devices: TrustedDevicesTable;
  instance_leases: InstanceLeasesTable;
  oidc_payloads: OidcPayloadsTable;
  oidc_session_grants: OidcSessionGrantsTable;
  forward_auth_sessions: ForwardAuthSessionsTable;
  imported_users: ImportedUsersTable;
}

/** A connection or a transaction: repositories accept either, flows decide the boundary. */
export type Executor = Kysely<Database> | Transaction<Database>;

export type UserRow = Selectable<UsersTable>;
export type FactorRow = Selectable<FactorsTable>;
export type SessionRow = Selectable<SessionsTable>;
export type RefreshTokenRow = Selectable<RefreshTokensTable>;
export type SigningKeyRow = Selectable<SigningKeysTable>;
export type NewSession = Insertable<SessionsTable>;
export type WebauthnCredentialRow = Selectable<WebauthnCredentialsTable>;
export type ChallengeRow = Selectable<ChallengesTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type SecurityEventRow = Selectable<SecurityEventsTable>;
export type PasswordResetRow = Selectable<PasswordResetsTable>;
export type TrustedDeviceRow = Selectable<TrustedDevicesTable>;
export type EmailVerificationRow = Selectable<EmailVerificationsTable>;
export type OidcPayloadRow = Selectable<OidcPayloadsTable>;
export type OidcSessionGrantRow = Selectable<OidcSessionGrantsTable>;
