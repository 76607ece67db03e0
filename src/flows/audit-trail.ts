// The audit trail (security_events): every security event, written to the database without
// holding up the request that caused it; kept for TWOFOLD_AUDIT_RETENTION_DAYS. Events are
// collected and written in batches on a later turn of the event loop — after the answer has gone
// out — in order, one multi-row insert per batch: a durable commit (an fsync on SQLite) costs the
// same for one row as for hundreds, and under load it was the largest cost of a login after the
// password hash. flush() waits for everything recorded so far (before reading the trail, and at
// shutdown), so the trail is complete when it is read.
import type { Insertable, Kysely } from 'kysely';
import { generateRandomBase64url } from '../core/crypto/random.js';
import { replaceUnsafeCharacters, storableText } from '../core/text/unsafe-characters.js';
import type { Database, SecurityEventsTable } from '../store/database.js';
import { deleteSecurityEventsBefore, insertSecurityEvents } from '../store/repositories/security-events.js';
import { maxStoredIpLength, maxStoredUserAgentLength } from './context.js';
import type { SecurityEventSink } from './security-events.js';

export interface AuditTrail extends SecurityEventSink {
  flush(): Promise<void>;
}

/** Rows per insert statement (10 columns each; far below SQLite's and PostgreSQL's parameter limits). */
const maxBatchRows = 500;

export function createAuditTrail(db: Kysely<Database>, now: () => number, onError: (error: unknown) => void): AuditTrail {
  let written: Promise<void> = Promise.resolve();
  let buffer: Array<Insertable<SecurityEventsTable>> = [];
  let scheduled = false;
  let sequence = 0;

  const writeBuffered = (): void => {
    scheduled = false;
    const rows = buffer;
    buffer = [];
    for (let start = 0; start < rows.length; start += maxBatchRows) {
      const batch = rows.slice(start, start + maxBatchRows);
      written = written.then(() => insertSecurityEvents(db, batch)).catch(onError);
    }
  };

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
        ip: storableText(event.ip, maxStoredIpLength),
        user_agent: storableText(event.userAgent, maxStoredUserAgentLength),
        // JSON.stringify escapes C0 itself; what it leaves raw (C1, bidi) is replaced. Details can
        // quote a client (a WebAuthn library's reason).
        details: event.details === undefined ? null : replaceUnsafeCharacters(JSON.stringify(event.details)),
        created_at: createdAt,
      };
      buffer.push(row);
      if (!scheduled) {
        scheduled = true;
        setImmediate(writeBuffered);
      }
    },
    async flush() {
      if (scheduled) writeBuffered();
      await written;
    },
  };
}

/** Drops events older than TWOFOLD_AUDIT_RETENTION_DAYS (0 keeps them forever). */
export async function pruneAuditTrail(ctx: { config: { audit: { retentionDays: number } }; db: Kysely<Database>; now(): number }): Promise<number> {
  if (ctx.config.audit.retentionDays === 0) return 0;
  return deleteSecurityEventsBefore(ctx.db, ctx.now() - ctx.config.audit.retentionDays * 86_400_000);
}
