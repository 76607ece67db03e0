// The audit trail (security_events): every security event, written to the database without
// holding up the request that caused it. Events are collected and written in batches on a later
// turn of the event loop — after the answer has gone out — in order, one multi-row insert per
// batch: a durable commit (an fsync on SQLite) costs the same for one row as for hundreds, and under
// load it was the largest cost of a login after the password hash. flush() waits for everything
// recorded so far (before reading the trail, and at shutdown), so the trail is complete when it is
// read.
//
// Bounded, because others can write to it (anyone can name a user at /v1/login or
// /v1/password/forgot):
// - coalescing: an event anyone can cause (or one recorded with `coalesce: true`) that repeats
//   identically — same user, type, IP, session, factor and details — within
//   TWOFOLD_AUDIT_COALESCE_SECONDS is one row whose repeat_count grows (per instance: n instances
//   write at most n rows a window). 300 wrong passwords from one address in a burst: one row, 300.
// - per-user caps (audit-caps.ts): each user keeps their newest TWOFOLD_AUDIT_EVENTS_PER_USER
//   events in each group — their own, others', routine — so a flood written by others evicts only
//   others' events, never the user's own sign-in history; account changes are never capped.
// - retention (audit-caps.ts): TWOFOLD_AUDIT_RETENTION_DAYS, deleted in batches.
import type { Insertable, Kysely } from 'kysely';
import { generateRandomBase64url } from '../../core/crypto/random.js';
import { replaceUnsafeCharacters, storableText } from '../../core/text/unsafe-characters.js';
import type { Database, SecurityEventsTable } from '../../store/database.js';
import { addSecurityEventRepeats, insertSecurityEvents } from '../../store/repositories/security-events.js';
import { capGroupOf, coalesces, type SecurityEvent } from '../shared/security-events.js';
import { maxStoredIpLength, maxStoredUserAgentLength, type AuditTrail } from '../shared/context.js';

export type { AuditTrail };

/** Rows per insert statement (13 columns each; far below SQLite's and PostgreSQL's parameter limits). */
const maxBatchRows = 500;
/** Coalescing keys remembered at once; beyond it the oldest are forgotten (a new row starts, never a lost event). */
const maxCoalescingKeys = 10_000;
/** Users remembered as grown between two cap runs; beyond it the cap run checks every user. */
const maxGrownOwners = 100_000;

type EventRow = Insertable<SecurityEventsTable> & { repeat_count: number; last_at: number | null };

interface Coalescing {
  row: EventRow;
  firstAt: number;
  /** The row has been handed to the database: further repeats are an update. */
  written: boolean;
  unwrittenRepeats: number;
  lastAt: number;
}

export function createAuditTrail(db: Kysely<Database>, now: () => number, onError: (error: unknown) => void, options: { coalesceSeconds?: number } = {}): AuditTrail {
  const coalesceMs = (options.coalesceSeconds ?? 60) * 1000;
  let written: Promise<void> = Promise.resolve();
  let buffer: EventRow[] = [];
  const coalescing = new Map<string, Coalescing>();
  const repeated = new Set<Coalescing>();
  let buffered: Coalescing[] = [];
  let grownOwners = new Set<string | null>();
  let overflowed = false;
  let scheduled = false;
  let sequence = 0;

  const forgetOldCoalescing = (at: number): void => {
    // Insertion order is time order: stop at the first key still inside its window.
    for (const [key, entry] of coalescing) {
      if (at - entry.firstAt < coalesceMs && coalescing.size <= maxCoalescingKeys) break;
      coalescing.delete(key);
    }
  };

  const writeBuffered = (): void => {
    scheduled = false;
    // Copies: a repeat arriving after this point is an update, and must not also change the insert.
    const rows = buffer.map((row) => ({ ...row }));
    buffer = [];
    for (const entry of buffered) entry.written = true;
    buffered = [];
    const repeats = [...repeated].map((entry) => ({ id: entry.row.id, count: entry.unwrittenRepeats, lastAt: entry.lastAt }));
    for (const entry of repeated) entry.unwrittenRepeats = 0;
    repeated.clear();
    forgetOldCoalescing(now());
    for (let start = 0; start < rows.length; start += maxBatchRows) {
      const batch = rows.slice(start, start + maxBatchRows);
      written = written.then(() => insertSecurityEvents(db, batch)).catch(onError);
    }
    for (const repeat of repeats) written = written.then(() => addSecurityEventRepeats(db, repeat.id, repeat.count, repeat.lastAt)).catch(onError);
  };

  const schedule = (): void => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(writeBuffered);
    }
  };

  const noteGrowth = (owner: string | null): void => {
    if (grownOwners.has(owner)) return;
    if (grownOwners.size >= maxGrownOwners) overflowed = true;
    else grownOwners.add(owner);
  };

  return {
    record(event) {
      const createdAt = now();
      const key = coalesceMs > 0 && coalesces(event) ? coalescingKey(event) : undefined;
      const earlier = key === undefined ? undefined : coalescing.get(key);
      if (earlier !== undefined && createdAt - earlier.firstAt < coalesceMs) {
        if (earlier.written) {
          earlier.unwrittenRepeats += 1;
          earlier.lastAt = createdAt;
          repeated.add(earlier);
        } else {
          earlier.row.repeat_count += 1;
          earlier.row.last_at = createdAt;
        }
        schedule();
        return;
      }
      sequence = (sequence + 1) % 36 ** 6;
      const capGroup = capGroupOf(event);
      const row: EventRow = {
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
        repeat_count: 1,
        last_at: null,
        cap_group: capGroup,
      };
      if (key !== undefined) {
        const entry: Coalescing = { row, firstAt: createdAt, written: false, unwrittenRepeats: 0, lastAt: createdAt };
        coalescing.delete(key);
        coalescing.set(key, entry);
        buffered.push(entry);
      }
      if (capGroup !== 'kept') noteGrowth(row.user_id ?? null);
      buffer.push(row);
      schedule();
    },
    async flush() {
      if (scheduled) writeBuffered();
      await written;
    },
    takeGrownOwners() {
      const taken = { owners: [...grownOwners], overflowed };
      grownOwners = new Set();
      overflowed = false;
      return taken;
    },
  };
}

/** What makes two events the same event: everything but the time and the user agent. */
function coalescingKey(event: SecurityEvent): string {
  // The user agent is left out on purpose: a client choosing it freely must not defeat coalescing.
  return JSON.stringify([event.userId ?? null, event.type, event.ip ?? null, event.sessionId ?? null, event.factorId ?? null, event.details ?? null]);
}
