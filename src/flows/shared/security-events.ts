// Every authentication decision is reported as a structured event (LOG-01). Events carry ids
// and outcomes only — never passwords, codes, secrets or tokens. The default sink writes them
// to the log; the audit trail (a table, src/flows/audit/audit-trail.ts) is another sink.
import type { AuditCapGroup } from '../../store/database.js';

export type SecurityEventType =
  | 'user.registered'
  /** Brought in from another system by `twofold import` (source, source id, operator). */
  | 'user.imported'
  | 'login.password_failed'
  | 'login.password_verified'
  | 'login.completed'
  | 'mfa.failed'
  | 'mfa.replay_rejected'
  | 'mfa.attempts_exhausted'
  | 'factor.enrolled'
  | 'factor.activated'
  | 'recovery_code.used'
  | 'recovery_codes.issued'
  | 'token.refreshed'
  | 'token.refresh_reuse_detected'
  /** A rotated refresh token presented again within the reuse grace: answered as before, not theft. */
  | 'token.refresh_grace_replay'
  | 'session.revoked'
  | 'admin.factors_reset'
  | 'signing_key.rotated'
  | 'encryption_key.rotated'
  | 'factor.removed'
  | 'factor.renamed'
  | 'challenge.sent'
  | 'challenge.delivery_failed'
  | 'step_up.completed'
  | 'webauthn.counter_regression'
  | 'webauthn.registration_failed'
  | 'password.changed'
  /** The account went passwordless (PW-15). */
  | 'password.removed'
  /** A password set again from a signed-in session of a passwordless account (PW-18). */
  | 'password.set'
  | 'password.change_failed'
  | 'password.reset_requested'
  | 'password.reset'
  | 'password.reset_failed'
  | 'login.throttled'
  | 'account.locked'
  | 'account.unlocked'
  | 'admin.account_unlocked'
  /** Admin API (src/admin/): every action names the admin (admin_id), the target (userId) and the reason typed. */
  | 'admin.account_locked'
  | 'admin.sessions_ended'
  | 'admin.password_reset_forced'
  | 'admin.deletion_scheduled'
  | 'admin.deletion_cancelled'
  | 'admin.user_deleted'
  | 'admin.role_granted'
  | 'admin.role_revoked'
  | 'admin.users_exported'
  | 'trusted_device.added'
  | 'trusted_device.used'
  | 'trusted_device.revoked'
  | 'notification.failed'
  | 'send_budget.exhausted'
  | 'request_budget.exhausted'
  | 'email.verification_sent'
  | 'email.verified'
  | 'email.changed'
  /** A login at the OpenID Provider: the Twofold session answered an application's authorization request. */
  | 'oidc.login'
  /** Forward-auth refused a signed-in person (a deny rule, a user not on the rule's list): the rule's line and the host. */
  | 'forward_auth.denied';

export interface SecurityEvent {
  type: SecurityEventType;
  userId?: string | undefined;
  sessionId?: string | undefined;
  factorId?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  /** Non-secret details: reasons, counts, ids. */
  details?: Record<string, string | number | boolean | null>;
  /**
   * Written for a request that proved nothing (anyone can name the user): the event counts against
   * the user's cap for others' events, never against their own sign-in history, and identical
   * repeats coalesce. Types anyone can cause are so without it (see capGroupOf).
   */
  anonymous?: boolean;
  /** Identical repeats (user, type, IP, details) within TWOFOLD_AUDIT_COALESCE_SECONDS become one row with a count. */
  coalesce?: boolean;
}

// Types anyone can cause by naming a user: a wrong password, a throttled attempt, a reset asked
// for or guessed, a notification about one of those that failed.
const causedByOthers = new Set<SecurityEventType>(['login.password_failed', 'login.throttled', 'password.reset_requested', 'password.reset_failed', 'notification.failed']);
// Evidence of a takeover or of a change to the account: each needs the user's credentials, an
// operator, or (a lock) a state change that only the owner's reset or an operator undoes, so their
// number is bounded by the owner's own actions — a cap never removes them, retention does.
const neverCapped = new Set<SecurityEventType>([
  'user.registered',
  'user.imported',
  'password.changed',
  'password.removed',
  'password.set',
  'password.reset',
  'factor.enrolled',
  'factor.activated',
  'factor.removed',
  'recovery_codes.issued',
  'recovery_code.used',
  'account.locked',
  'account.unlocked',
  'admin.account_unlocked',
  'admin.factors_reset',
  'admin.account_locked',
  'admin.sessions_ended',
  'admin.password_reset_forced',
  'admin.deletion_scheduled',
  'admin.deletion_cancelled',
  'admin.user_deleted',
  'admin.role_granted',
  'admin.role_revoked',
  'admin.users_exported',
  'trusted_device.added',
  'token.refresh_reuse_detected',
  'signing_key.rotated',
  'encryption_key.rotated',
]);
// The user's own, but frequent (every access-token lifetime of every session): capped apart, so a
// day of refreshes never pushes the sign-ins out.
// A refused app request repeats with every reload of the page: routine, so it never pushes sign-ins out.
const routine = new Set<SecurityEventType>(['token.refreshed', 'token.refresh_grace_replay', 'forward_auth.denied']);

/** Which per-user cap of the audit trail the event counts against (migration 0013 uses the same sets). */
export function capGroupOf(event: Pick<SecurityEvent, 'type' | 'anonymous'>): AuditCapGroup {
  if (neverCapped.has(event.type)) return 'kept';
  if (event.anonymous === true || causedByOthers.has(event.type)) return 'others';
  return routine.has(event.type) ? 'routine' : 'own';
}

/** Whether identical repeats of the event coalesce into one row: asked for, or caused by others. */
export function coalesces(event: Pick<SecurityEvent, 'type' | 'anonymous' | 'coalesce'>): boolean {
  return event.coalesce ?? capGroupOf(event) === 'others';
}

export interface SecurityEventSink {
  record(event: SecurityEvent): void;
}

/** Sends every event to each sink, so the log and the audit table see the same events. */
export function combineEventSinks(...sinks: SecurityEventSink[]): SecurityEventSink {
  return {
    record(event) {
      for (const sink of sinks) sink.record(event);
    },
  };
}

export interface EventLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

const warningTypes = new Set<SecurityEventType>(['mfa.replay_rejected', 'mfa.attempts_exhausted', 'token.refresh_reuse_detected', 'webauthn.counter_regression', 'challenge.delivery_failed', 'account.locked', 'login.throttled', 'send_budget.exhausted', 'request_budget.exhausted']);

export function createLoggingEventSink(logger: EventLogger): SecurityEventSink {
  return {
    record(event) {
      const { type, ...rest } = event;
      if (warningTypes.has(type)) logger.warn({ event: type, ...rest }, `security event ${type}`);
      else logger.info({ event: type, ...rest }, `security event ${type}`);
    },
  };
}

export const discardEvents: SecurityEventSink = { record() {} };
