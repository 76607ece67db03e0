// Paged feeds over HTTP, on SQLite and on PostgreSQL + Redis: GET /v1/revoked-sessions with a
// running twofold/verify against it, and GET /v1/me/events. The attack: one "sign out everywhere"
// (DELETE /v1/sessions) of an account holding 12,000 remembered sessions revokes them all in one
// millisecond — more than a page. Pages used to be cut by time alone, so every later poll got the same first page back and
// a victim's logout in that millisecond never reached resource servers. Pages now follow the strict
// order (revoked_at, id) with a cursor, and the verifier reads each answer through to its end.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokedSessionsPageSize } from '../../src/flows/sessions/revoked-sessions-feed.js';
import type { NewSession } from '../../src/store/database.js';
import { createVerifier, VerificationError, type Verifier } from '../../src/verify/index.js';
import { bearer, expectProblem, getJson, postJson, signUp, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';

const attackerSessions = 12_000;

let t: ListeningTwofold;
let attacker: SignedUp;
let victim: SignedUp;
let verifier: Verifier;
/** Polls the verifier started: its requests to the feed without `after` (a continuation has one). */
let pollStarts = 0;

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 3_000; attempt += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${what}: not reached`);
}

beforeAll(async () => {
  t = await startListeningTwofold();
  attacker = await signUp(t);
  victim = await signUp(t);
  // The attacker's remembered sessions, signed in long ago. Their ids sort before any id the
  // server generates (digits before letters, in byte order and in PostgreSQL's collations alike),
  // so the victim's session is the last row of the millisecond: on the old feed, out of reach.
  const now = t.clock.now();
  const rows: NewSession[] = Array.from({ length: attackerSessions }, (_, index) => ({
    id: `ses_0000000000${String(index).padStart(12, '0')}`,
    user_id: attacker.userId,
    state: 'active',
    mfa_jti: null,
    amr: '["pwd","otp","mfa"]',
    acr: 'aal2',
    auth_time: now - 3_600_000,
    client_id: 'twofold',
    ip: null,
    user_agent: null,
    created_at: now - 3_600_000,
    expires_at: now + 3_600_000,
    last_active_at: now - 60_000,
    revoked_at: null,
    revoke_reason: null,
  }));
  for (let start = 0; start < rows.length; start += 500) await t.ctx.db.insertInto('sessions').values(rows.slice(start, start + 500)).execute();
  verifier = createVerifier({
    issuer: t.baseUrl,
    audience: t.config.audience,
    now: t.clock.now,
    revocations: { intervalMs: 100 },
    fetch: (input, init) => {
      const url = new URL(String(input));
      if (url.pathname === '/v1/revoked-sessions' && !url.searchParams.has('after')) pollStarts += 1;
      return fetch(input, init);
    },
  });
  await verifier.verify(victim.accessToken);
}, 120_000);
afterAll(async () => {
  verifier?.close();
  await t?.close();
});

describe('GET /v1/revoked-sessions: a strict cursor', () => {
  it("RC-04: 12,000 revocations in one millisecond — the feed still advances, and a victim's logout in that millisecond reaches a running verifier within its poll interval", async () => {
    const signOutEverywhere = await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(attacker.accessToken) });
    expect(signOutEverywhere.statusCode, signOutEverywhere.body).toBe(200);
    expect(signOutEverywhere.json().sessions_ended).toBe(attackerSessions);
    // The clock has not moved: the victim's logout falls in the same millisecond.
    expect((await postJson(t.app, '/v1/logout', {}, bearer(victim.accessToken))).statusCode).toBe(204);
    const revokedAt = await t.ctx.db.selectFrom('sessions').select('revoked_at').where('user_id', 'in', [attacker.userId, victim.userId]).where('state', '=', 'revoked').distinct().execute();
    expect(revokedAt).toEqual([{ revoked_at: t.clock.now() }]);

    // Polls are sequential: once a poll started after the logout is followed by another, the
    // first has read the whole feed. No time is measured.
    const startedBefore = pollStarts;
    const pagesBefore = verifier.stats().revocations.pages;
    await until(() => pollStarts >= startedBefore + 2, 'two more polls');
    const refused = await verifier.verify(victim.accessToken).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(VerificationError);
    expect((refused as VerificationError).code).toBe('invalid_token');
    const stats = verifier.stats().revocations;
    expect(stats.revokedSessions).toBeGreaterThanOrEqual(attackerSessions + 1);
    expect(stats.issuerPagesWithCursor).toBe(true);
    // A full answer is three pages, read in one poll.
    expect(stats.pages - pagesBefore).toBeGreaterThanOrEqual(3);
  });

  it('RC-04: following next_after reads every session of the millisecond exactly once, in pages of 5,000', async () => {
    const sids: string[] = [];
    let query = '';
    let pages = 0;
    for (;;) {
      const response = await getJson(t.app, `/v1/revoked-sessions${query}`);
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json() as { as_of: number; sessions: Array<{ sid: string }>; next_after: string | null };
      pages += 1;
      sids.push(...page.sessions.map((entry) => entry.sid));
      if (page.next_after === null) {
        expect(page.as_of).toBe(t.clock.now());
        break;
      }
      expect(page.sessions).toHaveLength(revokedSessionsPageSize);
      expect(page.next_after).toBe(page.sessions.at(-1)?.sid);
      query = `?since=${page.as_of}&after=${encodeURIComponent(page.next_after)}`;
      expect(pages).toBeLessThan(10);
    }
    expect(pages).toBe(3);
    expect(new Set(sids).size).toBe(sids.length);
    expect(sids).toContain(String(decodeJwt(victim.accessToken)['sid']));
    expect(sids.filter((sid) => sid.startsWith('ses_0000000000'))).toHaveLength(attackerSessions);
  });

  it('refuses `after` without `since`, and an `after` that is not a session id, as invalid_request', async () => {
    expectProblem(await getJson(t.app, '/v1/revoked-sessions?after=ses_abc'), 400, 'invalid_request');
    expectProblem(await getJson(t.app, `/v1/revoked-sessions?since=${t.clock.now()}&after=${encodeURIComponent("ses_' or 1=1 --")}`), 400, 'invalid_request');
    expectProblem(await getJson(t.app, `/v1/revoked-sessions?since=${t.clock.now()}&after=${'a'.repeat(65)}`), 400, 'invalid_request');
  });
});

describe('GET /v1/me/events: a strict cursor', () => {
  it('RC-04: 250 events recorded in one millisecond are paged through with `before`, each once, newest first', async () => {
    const person = await signUp(t);
    for (let index = 0; index < 250; index += 1) t.ctx.events.record({ type: 'session.revoked', userId: person.userId, details: { index } });
    const ids: string[] = [];
    let query = '?limit=100';
    for (let page = 0; page < 10; page += 1) {
      const response = await getJson(t.app, `/v1/me/events${query}`, bearer(person.accessToken));
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json() as { events: Array<{ id: string; details: { index?: number } }>; next_before: string | null };
      ids.push(...body.events.map((event) => event.id));
      if (body.next_before === null) break;
      query = `?limit=100&before=${body.next_before}`;
    }
    expect(new Set(ids).size).toBe(ids.length);
    // The 250 of this millisecond, plus the events of the sign-up itself.
    expect(ids.length).toBeGreaterThanOrEqual(250);
    expect([...ids].sort().reverse()).toEqual(ids);
  });
});
