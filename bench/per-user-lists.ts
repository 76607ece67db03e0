// Listing cost against the rows one user has (a listing once sorted all of them): one page (50
// rows, first and from a cursor in the middle) of the user's security events (GET /v1/me/events)
// and of their signed-in sessions (GET /v1/sessions), read straight from SQLite (the default
// database) at 1 k, 10 k, 100 k and 1 M rows of that one user. A page read through an index in its order costs the same at any
// size; a sort over the user's rows would grow with them. CPU time (process.cpuUsage), median of
// the rounds, for the same reason as the memory-store group: the query is synchronous work.
import { join } from 'node:path';
import { openDatabase } from '../src/store/connect.js';
import type { NewSession } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { listSecurityEventsOfUser } from '../src/store/repositories/security-events.js';
import { listLiveSessionsOfUserPage } from '../src/store/repositories/sessions.js';
import { makeTempDir } from '../test/helpers/backend.js';
import { median } from './statistics.js';

export interface PerUserListing {
  /** Microseconds of CPU per page, by list and rows of the user. */
  microsecondsPerPage: { events: Map<number, number>; sessions: Map<number, number> };
}

const now = Date.UTC(2026, 0, 1);
const pageSize = 50;

function cpuMicrosecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

export async function measurePerUserListing(options: { sizes: number[]; pagesPerRound: number; rounds: number; log(message: string): void }): Promise<PerUserListing> {
  const dir = makeTempDir('twofold-bench-lists-');
  const opened = openDatabase({ kind: 'sqlite', path: join(dir.path, 'lists.db') });
  const result: PerUserListing = { microsecondsPerPage: { events: new Map(), sessions: new Map() } };
  try {
    const db = opened.db;
    await migrateToLatest(db);
    const userId = 'usr_bench';
    await db.insertInto('users').values({ id: userId, username: 'bench', email: null, phone: null, password_hash: 'x', created_at: now, updated_at: now }).execute();
    // Another user's rows beside them: the table is never only this user's.
    await db.insertInto('users').values({ id: 'usr_other', username: 'other', email: null, phone: null, password_hash: 'x', created_at: now, updated_at: now }).execute();
    let have = 0;
    for (const size of options.sizes) {
      options.log(`  per-user lists: growing to ${size.toLocaleString('en')} events and sessions of one user…`);
      while (have < size) {
        const count = Math.min(5_000, size - have);
        await db.transaction().execute(async (trx) => {
          for (let start = 0; start < count; start += 500) {
            const batch = Array.from({ length: Math.min(500, count - start) }, (_, offset) => have + start + offset);
            await trx
              .insertInto('security_events')
              .values(batch.map((index) => ({ id: `evt_${String(index).padStart(10, '0')}`, type: 'login.completed', user_id: index % 10 === 9 ? 'usr_other' : userId, session_id: null, factor_id: null, ip: '203.0.113.1', user_agent: null, details: null, created_at: now + index })))
              .execute();
            await trx.insertInto('sessions').values(batch.map((index) => session(index % 10 === 9 ? 'usr_other' : userId, index))).execute();
          }
        });
        have += count;
      }
      const middleEvent = `evt_${String(Math.floor(size / 2)).padStart(10, '0')}`;
      const middleSession = { createdAt: now + Math.floor(size / 2), id: `ses_${String(Math.floor(size / 2)).padStart(10, '0')}` };
      const live = { now: now + size, idleMs: 3_600_000_000 };
      const eventRounds: number[] = [];
      const sessionRounds: number[] = [];
      for (let round = 0; round < options.rounds; round += 1) {
        let start = process.cpuUsage();
        for (let page = 0; page < options.pagesPerRound; page += 1) {
          const rows = await listSecurityEventsOfUser(db, userId, page % 2 === 0 ? { limit: pageSize } : { limit: pageSize, before: middleEvent });
          if (rows.length !== pageSize) throw new Error('short page of events');
        }
        eventRounds.push(cpuMicrosecondsSince(start) / options.pagesPerRound);
        start = process.cpuUsage();
        for (let page = 0; page < options.pagesPerRound; page += 1) {
          const rows = await listLiveSessionsOfUserPage(db, userId, live, page % 2 === 0 ? { limit: pageSize } : { limit: pageSize, before: middleSession });
          if (rows.length !== pageSize) throw new Error('short page of sessions');
        }
        sessionRounds.push(cpuMicrosecondsSince(start) / options.pagesPerRound);
      }
      result.microsecondsPerPage.events.set(size, median(eventRounds));
      result.microsecondsPerPage.sessions.set(size, median(sessionRounds));
    }
    return result;
  } finally {
    await opened.close();
    dir.dispose();
  }
}

function session(userId: string, index: number): NewSession {
  return {
    id: `ses_${String(index).padStart(10, '0')}`,
    user_id: userId,
    state: 'active',
    mfa_jti: null,
    amr: '["pwd","otp","mfa"]',
    acr: 'aal2',
    auth_time: now + index,
    client_id: 'twofold',
    ip: '203.0.113.1',
    user_agent: null,
    created_at: now + index,
    expires_at: now + 10 * 365 * 86_400_000,
    last_active_at: now + index,
    revoked_at: null,
    revoke_reason: null,
    credentials_changed_at: null,
  };
}
