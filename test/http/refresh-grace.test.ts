// The refresh reuse grace (SS-02, RFC 9700 §4.14.2). A rotated
// refresh token presented again within TWOFOLD_REFRESH_REUSE_GRACE_SECONDS gets the answer its
// rotation gave — a lost answer or two page loads at once no longer sign the person out — while
// reuse after the grace, of an older token, or after the child was used still revokes the family.
// Runs on SQLite and, in the "postgres" project, on PostgreSQL + Redis.
import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { wipeExpiredGraceAnswers } from '../../src/flows/sessions/refresh-grace.js';
import { bearer, expectProblem, getJson, postJson, signUp } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const graceMs = 10_000;
const digest = (token: string) => createHash('sha256').update(token).digest('base64url');
const sidOf = (accessToken: string) => decodeJwt(accessToken)['sid'] as string;
const refreshOn = (on: TestTwofold, refreshToken: string) => postJson(on.app, '/v1/token/refresh', { refresh_token: refreshToken });
const refresh = (refreshToken: string) => refreshOn(t, refreshToken);

async function refreshed(refreshToken: string): Promise<{ access_token: string; refresh_token: string; expires_in: number }> {
  const response = await refresh(refreshToken);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

const tokenRow = (on: TestTwofold, token: string) => on.ctx.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', digest(token)).executeTakeFirstOrThrow();
const childrenOf = (on: TestTwofold, parentId: string) => on.ctx.db.selectFrom('refresh_tokens').select('id').where('parent_id', '=', parentId).execute();
const sessionState = async (on: TestTwofold, sid: string) => (await on.ctx.db.selectFrom('sessions').select('state').where('id', '=', sid).executeTakeFirstOrThrow()).state;
const eventsOf = (on: TestTwofold, type: string, sid: string) => on.events.filter((event) => event.type === type && event.sessionId === sid);

describe('SS-02: the refresh reuse grace', () => {
  it('SS-02: a rotated token presented again within the grace gets the same pair — same refresh and access token — and the family lives on', async () => {
    const user = await signUp(t);
    const sid = sidOf(user.accessToken);
    const first = await refreshed(user.refreshToken);
    t.clock.advance(graceMs - 1);

    const again = await refresh(user.refreshToken);

    expect(again.statusCode, again.body).toBe(200);
    expect(again.headers['cache-control']).toBe('no-store');
    const body = again.json();
    expect(body.refresh_token).toBe(first.refresh_token);
    expect(body.access_token).toBe(first.access_token);
    // The same access token has less left: expires_in says so, it is not a fresh lifetime.
    expect(body.expires_in).toBe(decodeJwt(first.access_token).exp! - Math.floor(t.clock.now() / 1000));
    expect(body.expires_in).toBeLessThan(first.expires_in);
    // A replay mints nothing: the rotated token has one child.
    expect(await childrenOf(t, (await tokenRow(t, user.refreshToken)).id)).toHaveLength(1);
    expect((await getJson(t.app, '/v1/me', bearer(body.access_token))).statusCode).toBe(200);
    expect(await sessionState(t, sid)).toBe('active');
    expect(eventsOf(t, 'token.refresh_grace_replay', sid)).toEqual([expect.objectContaining({ userId: user.userId, details: { ms_since_rotation: graceMs - 1 } })]);
    expect(eventsOf(t, 'token.refresh_reuse_detected', sid)).toEqual([]);
    // The family goes on from the child.
    await refreshed(first.refresh_token);
  });

  it('SS-02: at the end of the grace the rotated token is reuse — 401, the family is revoked and the pair it got is dead', async () => {
    const user = await signUp(t);
    const sid = sidOf(user.accessToken);
    const first = await refreshed(user.refreshToken);
    t.clock.advance(graceMs);

    expectProblem(await refresh(user.refreshToken), 401, 'invalid_token');

    expect(await sessionState(t, sid)).toBe('revoked');
    expectProblem(await refresh(first.refresh_token), 401, 'invalid_token');
    expectProblem(await getJson(t.app, '/v1/me', bearer(first.access_token)), 401, 'invalid_token');
    expect(eventsOf(t, 'token.refresh_reuse_detected', sid)).toEqual([expect.objectContaining({ details: { ms_since_rotation: graceMs } })]);
    expect(eventsOf(t, 'token.refresh_grace_replay', sid)).toEqual([]);
  });

  it('SS-02: an older token (the grandparent) presented within the grace revokes the family', async () => {
    const user = await signUp(t);
    const parent = await refreshed(user.refreshToken);
    t.clock.advance(1000);
    const child = await refreshed(parent.refresh_token);
    t.clock.advance(1000);

    expectProblem(await refresh(user.refreshToken), 401, 'invalid_token');

    expect(await sessionState(t, sidOf(user.accessToken))).toBe('revoked');
    expectProblem(await refresh(child.refresh_token), 401, 'invalid_token');
  });

  it('SS-02: the parent presented again after its child was used revokes the family, even within the grace', async () => {
    const user = await signUp(t);
    const first = await refreshed(user.refreshToken);
    const second = await refreshed(first.refresh_token);

    expectProblem(await refresh(user.refreshToken), 401, 'invalid_token');

    expect(await sessionState(t, sidOf(user.accessToken))).toBe('revoked');
    expectProblem(await refresh(second.refresh_token), 401, 'invalid_token');
  });

  it('SS-02: 20 concurrent refreshes of one token are all answered with one pair; one child exists and the session lives', async () => {
    const user = await signUp(t);
    const sid = sidOf(user.accessToken);

    const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(user.refreshToken)));

    expect(responses.map((response) => response.statusCode)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(new Set(responses.map((response) => response.json().refresh_token)).size).toBe(1);
    expect(new Set(responses.map((response) => response.json().access_token)).size).toBe(1);
    expect(await childrenOf(t, (await tokenRow(t, user.refreshToken)).id)).toHaveLength(1);
    expect(eventsOf(t, 'token.refreshed', sid)).toHaveLength(1);
    expect(eventsOf(t, 'token.refresh_grace_replay', sid)).toHaveLength(19);
    expect(await sessionState(t, sid)).toBe('active');
    await refreshed(responses[0]!.json().refresh_token);
  });

  it('SS-02: a sealed answer copied onto another token\'s row does not open there — reuse, and nothing of the other session is handed out', async () => {
    const victim = await signUp(t);
    const attacker = await signUp(t);
    const victimPair = await refreshed(victim.refreshToken);
    await refreshed(attacker.refreshToken);
    const victimRow = await tokenRow(t, victim.refreshToken);
    await t.ctx.db.updateTable('refresh_tokens').set({ grace_answer_ciphertext: victimRow.grace_answer_ciphertext }).where('id', '=', (await tokenRow(t, attacker.refreshToken)).id).execute();

    const response = await refresh(attacker.refreshToken);

    expectProblem(response, 401, 'invalid_token');
    expect(response.body).not.toContain(victimPair.refresh_token);
    expect(response.body).not.toContain(victimPair.access_token);
    expect(await sessionState(t, sidOf(victim.accessToken))).toBe('active');
  });

  it('SS-02: no token is ever in the database in clear, and a rotation\'s sealed answer is gone after the grace — swept within a second, and at once with the family', async () => {
    const user = await signUp(t);
    const first = await refreshed(user.refreshToken);
    const parentRow = await tokenRow(t, user.refreshToken);
    expect(parentRow.grace_answer_ciphertext).toMatch(/^v1\./);
    const everything = JSON.stringify(await t.ctx.db.selectFrom('refresh_tokens').selectAll().execute());
    for (const token of [user.refreshToken, first.refresh_token, first.access_token]) expect(everything).not.toContain(token);

    // The sweeper every instance runs (real time) wipes it once the grace has ended by the clock.
    t.clock.advance(graceMs);
    await vi.waitFor(async () => expect((await tokenRow(t, user.refreshToken)).grace_answer_ciphertext).toBeNull(), { timeout: 10_000, interval: 100 });
    const sealedAfterGrace = await t.ctx.db
      .selectFrom('refresh_tokens')
      .select('id')
      .where('grace_answer_ciphertext', 'is not', null)
      .where('used_at', '<=', t.clock.now() - graceMs)
      .execute();
    expect(sealedAfterGrace).toEqual([]);

    // Ending the session wipes what its family still held.
    const other = await signUp(t);
    await refreshed(other.refreshToken);
    expect((await postJson(t.app, '/v1/logout', {}, bearer(other.accessToken))).statusCode).toBe(204);
    expect((await tokenRow(t, other.refreshToken)).grace_answer_ciphertext).toBeNull();
    expectProblem(await refresh(other.refreshToken), 401, 'invalid_token');
  });

  it('SS-02: wipeExpiredGraceAnswers() wipes answers whose grace has ended and keeps those still inside it', async () => {
    const early = await signUp(t);
    await refreshed(early.refreshToken);
    t.clock.advance(graceMs - 1000);
    const late = await signUp(t);
    await refreshed(late.refreshToken);
    t.clock.advance(1000);

    await wipeExpiredGraceAnswers(t.ctx);

    expect((await tokenRow(t, early.refreshToken)).grace_answer_ciphertext).toBeNull();
    expect((await tokenRow(t, late.refreshToken)).grace_answer_ciphertext).not.toBeNull();
  });

  it('SS-02: with TWOFOLD_REFRESH_REUSE_GRACE_SECONDS=0 nothing is sealed and a reuse revokes at once', async () => {
    const strict = await startTestTwofold({ env: { TWOFOLD_REFRESH_REUSE_GRACE_SECONDS: '0' } });
    try {
      const user = await signUp(strict);
      const first = await refreshOn(strict, user.refreshToken);
      expect(first.statusCode).toBe(200);
      expect((await tokenRow(strict, user.refreshToken)).grace_answer_ciphertext).toBeNull();
      expectProblem(await refreshOn(strict, user.refreshToken), 401, 'invalid_token');
      expectProblem(await refreshOn(strict, first.json().refresh_token), 401, 'invalid_token');
      expect(await sessionState(strict, sidOf(user.accessToken))).toBe('revoked');
    } finally {
      await strict.close();
    }
  });
});

describe('SS-02: hosted pages refreshing from the refresh cookie', () => {
  const pageLoad = (on: TestTwofold, refreshToken: string) => on.app.inject({ method: 'GET', url: '/account', headers: { cookie: `__Host-twofold-refresh=${refreshToken}` } });
  const cookieOf = (response: LightMyRequestResponse, name: string) => response.cookies.find((cookie) => cookie.name === name)?.value;

  async function twoPageLoadsAtOnce(on: TestTwofold, count: number) {
    const user = await signUp(on);
    const sid = sidOf(user.accessToken);
    on.clock.advanceSeconds(11 * 60); // the access cookie (and token) has expired: the pages refresh
    const responses = await Promise.all(Array.from({ length: count }, () => pageLoad(on, user.refreshToken)));
    for (const response of responses) {
      expect(response.statusCode, response.body.slice(0, 200)).toBe(200);
      expect(response.body).toContain(user.username);
    }
    const newRefreshTokens = new Set(responses.map((response) => cookieOf(response, '__Host-twofold-refresh')));
    expect(newRefreshTokens.size).toBe(1);
    const [newRefreshToken] = [...newRefreshTokens];
    expect(newRefreshToken).toMatch(/^tfr_/);
    expect(newRefreshToken).not.toBe(user.refreshToken);
    expect(await sessionState(on, sid)).toBe('active');
    // The session survives: the new cookie refreshes again.
    expect((await refreshOn(on, newRefreshToken!)).statusCode).toBe(200);
    return { sid };
  }

  it('SS-02: two page loads at once with an expired access cookie — both signed in with the same new cookies, one refresh on this instance, the session lives', async () => {
    const { sid } = await twoPageLoadsAtOnce(t, 2);
    // Single flight: one rotation for both page loads, no replay needed on one instance.
    expect(eventsOf(t, 'token.refreshed', sid)).toHaveLength(2); // the page loads' one, and the check above
    expect(eventsOf(t, 'token.refresh_grace_replay', sid)).toEqual([]);
    expect(eventsOf(t, 'token.refresh_reuse_detected', sid)).toEqual([]);
  });

  it('SS-02: with the grace off, 5 page loads at once on one instance still share one refresh (single flight per session)', async () => {
    const strict = await startTestTwofold({ env: { TWOFOLD_REFRESH_REUSE_GRACE_SECONDS: '0' } });
    try {
      const { sid } = await twoPageLoadsAtOnce(strict, 5);
      expect(eventsOf(strict, 'token.refresh_reuse_detected', sid)).toEqual([]);
    } finally {
      await strict.close();
    }
  });
});
