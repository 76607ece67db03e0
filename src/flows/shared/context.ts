// Everything a flow needs, passed in explicitly: the clock too, so tests can move time.
import type { Kysely } from 'kysely';
import type { TwofoldConfig } from '../../config/schema.js';
import type { SecretBox } from '../../core/crypto/secretbox.js';
import type { DpopNonces, DpopReplayStore } from '../../core/dpop/index.js';
import type { PasswordHasher } from '../../core/password/hasher.js';
import type { AccessTokenClaims } from '../../core/tokens/claims.js';
import type { SigningKey } from '../../core/tokens/signing-key.js';
import type { VerifiedTokenCache } from '../../core/tokens/verified-token-cache.js';
import type { Database } from '../../store/database.js';
import type { KeyValueStore } from '../../store/kv/key-value-store.js';
import type { MessageSenders } from '../../delivery/senders.js';
import type { BackgroundTasks } from './background.js';
import type { FlowMetrics } from './flow-metrics.js';
import type { SecurityEventSink } from './security-events.js';

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
  /** DPoP (config.dpop says whether it is on): stateless nonces every instance accepts, the jti replay claims in kv. */
  dpop: { nonces: DpopNonces; replay: DpopReplayStore };
  revokedSessions: RevokedSessions;
  /** Run after sessions end (sessions/session-end-hooks.ts): the OpenID Provider's logout. */
  sessionEndHooks: SessionEndHooks;
  /** Where SMS and e-mail codes go. */
  senders: MessageSenders;
  /** Work started by a request and finished after its answer (notifications, reset codes). */
  background: BackgroundTasks;
  /** Counters the flows report directly (throttle decisions); no-ops when metrics are off. */
  metrics: FlowMetrics;
  /** Operational warnings (not security events): a degraded dependency, a dropped message. */
  diagnostics: { warn(details: object, message: string): void };
}

// The parts below are named by what a flow asks of them; their implementations
// (keys/signing-keys.ts, audit/audit-trail.ts, sessions/revoked-sessions.ts) build on the flows, so
// the flows must not import them back (docs/architecture.md).

/** The signing keys, loaded from the database and shared by every instance. */
export interface KeyRingManager {
  /** The key new tokens are signed with. */
  currentKey(): Promise<SigningKey>;
  /** A key that may verify tokens, reloading the ring once if the kid is new to us. */
  findKey(kid: string): Promise<SigningKey | undefined>;
  /** Keys to publish in the JWKS: the current one and retired ones whose tokens may still live. */
  publishedKeys(): Promise<SigningKey[]>;
  reload(): Promise<void>;
  /** Makes a new key current; the previous ones keep verifying until their tokens expire. */
  rotate(): Promise<SigningKey>;
}

/** The audit trail: a security-event sink that writes after the answer, in batches. */
export interface AuditTrail extends SecurityEventSink {
  flush(): Promise<void>;
  /**
   * The users (null: events about nobody) whose capped groups grew since the last call, for the
   * cap upkeep; `overflowed` when more grew than are tracked (then every user is checked).
   */
  takeGrownOwners(): { owners: Array<string | null>; overflowed: boolean };
}

/** This instance's copy of the revoked-session denylist (the database stays the authority). */
export interface RevokedSessions {
  /** Revoked until `expiresAt`; a session revoked twice stays revoked until the later time. */
  add(sessionId: string, expiresAt: number): void;
  has(sessionId: string, now: number): boolean;
  /** Drops expired entries. */
  sweep(now: number): void;
}

/** Work other parts add to the end of a session, run once its revocation is committed. */
export interface SessionEndHooks {
  add(hook: (sessionIds: readonly string[]) => Promise<void>): void;
  /** Every hook in turn; a failure is reported to the hooks' error handler, never thrown. */
  run(sessionIds: readonly string[]): Promise<void>;
}

/** Where a request came from, recorded on sessions and security events. */
export interface RequestMeta {
  ip?: string | undefined;
  userAgent?: string | undefined;
  /**
   * DPoP: the thumbprint of the key whose valid proof came with this request (checked by the
   * HTTP layer); tokens issued for the request are bound to it. Undefined: no proof, or DPoP off.
   */
  dpopJkt?: string | undefined;
}

// How much of each is stored (sessions, remembered browsers, the audit trail), with control and
// bidi characters replaced: both come from the client (a header, or a library caller's value) and
// are shown to people and operators. The longest IPv6 text, with a zone, fits in 64.
export const maxStoredIpLength = 64;
export const maxStoredUserAgentLength = 512;
