// The audit trail (security_events): every security event, written to the database without
// holding up the request that caused it; kept for TWOFOLD_AUDIT_RETENTION_DAYS. Writes are queued in order and awaited by flush()
// (before reading the trail, and at shutdown), so the trail is complete when it is read.
import type { Kysely } from 'kysely';
import { generateRandomBase64url } from '../core/crypto/random.js';
import type { Database } from '../store/database.js';
import { deleteSecurityEventsBefore, insertSecurityEvent } from '../store/repositories/security-events.js';
import type { SecurityEventSink } from './security-events.js';

export interface AuditTrail extends SecurityEventSink {
  flush(): Promise<void>;
}

export function createAuditTrail(db: Kysely<Database>, now: () => number, onError: (error: unknown) => void): AuditTrail {
  let pending: Promise<void> = Promise.resolve();
  let sequence = 0;
  return {
    record(event) {
      const createdAt = now();
      sequence = (sequence + 1) % 36 ** 6;
      const row = {
        // Sorts like the events happened: time, then this process's order (events in one
        // millisecond keep theirs), then random bits so instances never collide.
        id: `evt_${createdAt.toString(36).padStart(9, '0')}${sequence.toString(36).padStart(6, '0')}${generateRandomBase64url(6)}`,
        type: event.type,
        user_id: event.userId ?? null,
        session_id: event.sessionId ?? null,
        factor_id: event.factorId ?? null,
        ip: event.ip ?? null,
        user_agent: event.userAgent?.slice(0, 512) ?? null,
        details: event.details === undefined ? null : JSON.stringify(event.details),
        created_at: createdAt,
      };
      pending = pending.then(() => insertSecurityEvent(db, row)).catch(onError);
    },
    flush: () => pending,
  };
}

/** Drops events older than TWOFOLD_AUDIT_RETENTION_DAYS (0 keeps them forever). */
export async function pruneAuditTrail(ctx: { config: { audit: { retentionDays: number } }; db: Kysely<Database>; now(): number }): Promise<number> {
  if (ctx.config.audit.retentionDays === 0) return 0;
  return deleteSecurityEventsBefore(ctx.db, ctx.now() - ctx.config.audit.retentionDays * 86_400_000);
}
