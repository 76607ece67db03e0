// Every authentication decision is reported as a structured event (LOG-01). Events carry ids
// and outcomes only — never passwords, codes, secrets or tokens. The default sink writes them
// to the log; the audit trail (a table) plugs in here later.

export type SecurityEventType =
  | 'user.registered'
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
  | 'password.change_failed'
  | 'password.reset_requested'
  | 'password.reset'
  | 'password.reset_failed'
  | 'login.throttled'
  | 'account.locked'
  | 'account.unlocked'
  | 'admin.account_unlocked'
  | 'trusted_device.added'
  | 'trusted_device.used'
  | 'trusted_device.revoked'
  | 'notification.failed';

export interface SecurityEvent {
  type: SecurityEventType;
  userId?: string | undefined;
  sessionId?: string | undefined;
  factorId?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  /** Non-secret details: reasons, counts, ids. */
  details?: Record<string, string | number | boolean | null>;
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

const warningTypes = new Set<SecurityEventType>(['mfa.replay_rejected', 'mfa.attempts_exhausted', 'token.refresh_reuse_detected', 'webauthn.counter_regression', 'challenge.delivery_failed', 'account.locked', 'login.throttled']);

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
