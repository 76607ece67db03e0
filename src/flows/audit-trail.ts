// The audit trail (security_events): every security event, written to the database without
// holding up the request that caused it. Writes are queued in order and awaited by flush()
// (before reading the trail, and at shutdown), so the trail is complete when it is read.
import type { Kysely } from 'kysely';
import { generateId } from '../core/crypto/random.js';
import type { Database } from '../store/database.js';
import { insertSecurityEvent } from '../store/repositories/security-events.js';
import type { SecurityEventSink } from './security-events.js';

export interface AuditTrail extends SecurityEventSink {
  flush(): Promise<void>;
}

export function createAuditTrail(db: Kysely<Database>, now: () => number, onError: (error: unknown) => void): AuditTrail {
  let pending: Promise<void> = Promise.resolve();
  return {
    record(event) {
      const row = {
        id: generateId('evt'),
        type: event.type,
        user_id: event.userId ?? null,
        session_id: event.sessionId ?? null,
        factor_id: event.factorId ?? null,
        ip: event.ip ?? null,
        user_agent: event.userAgent?.slice(0, 512) ?? null,
        details: event.details === undefined ? null : JSON.stringify(event.details),
        created_at: now(),
      };
      pending = pending.then(() => insertSecurityEvent(db, row)).catch(onError);
    },
    flush: () => pending,
  };
}
