// Everything a flow needs, passed in explicitly: the clock too, so tests can move time.
import type { Kysely } from 'kysely';
import type { TwofoldConfig } from '../config/schema.js';
import type { SecretBox } from '../core/crypto/secretbox.js';
import type { PasswordHasher } from '../core/password/hasher.js';
import type { AccessTokenClaims } from '../core/tokens/claims.js';
import type { VerifiedTokenCache } from '../core/tokens/verified-token-cache.js';
import type { Database } from '../store/database.js';
import type { KeyValueStore } from '../store/kv/key-value-store.js';
import type { RevokedSessionSet } from './revoked-sessions.js';
import type { MessageSenders } from '../delivery/senders.js';
import type { AuditTrail } from './audit-trail.js';
import type { BackgroundTasks } from './background.js';
import type { FlowMetrics } from './flow-metrics.js';
import type { SecurityEventSink } from './security-events.js';
import type { KeyRingManager } from './signing-keys.js';

export interface FlowContext {
  config: TwofoldConfig;
  db: Kysely<Database>;
  /** Milliseconds since the epoch. */
  now(): number;
  secretBox: SecretBox;
  passwordHasher: PasswordHasher;
  keys: KeyRingManager;
  /** HMAC key for human-typed codes (recovery codes), kept sealed in the database. */
  codePepper: Uint8Array;
  accessTokenCache: VerifiedTokenCache<AccessTokenClaims>;
  /** Every security event: to the log, the audit trail and any sink the embedder adds. */
  events: SecurityEventSink;
  auditTrail: AuditTrail;
  /** Shared short-lived state: Redis with several instances, else in-process memory. */
  kv: KeyValueStore;
  revokedSessions: RevokedSessionSet;
  /** Where SMS and e-mail codes go. */
  senders: MessageSenders;
  /** Work started by a request and finished after its answer (notifications, reset codes). */
  background: BackgroundTasks;
  /** Counters the flows report directly (throttle decisions); no-ops when metrics are off. */
  metrics: FlowMetrics;
  /** Operational warnings (not security events): a degraded dependency, a dropped message. */
  diagnostics: { warn(details: object, message: string): void };
}

/** Where a request came from, recorded on sessions and security events. */
export interface RequestMeta {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

// How much of each is stored (sessions, remembered browsers, the audit trail), with control and
// bidi characters replaced: both come from the client (a header, or a library caller's value) and
// are shown to people and operators. The longest IPv6 text, with a zone, fits in 64.
export const maxStoredIpLength = 64;
export const maxStoredUserAgentLength = 512;
