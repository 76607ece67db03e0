// twofold/client when a refresh answer is lost (SS-02): the server rotated the
// refresh token, but its answer never reached the client — a connection cut, no answer in time.
// The client retries with the same token inside the server's reuse grace and stays signed in; it
// never sends a token older than its store holds. A real Twofold behind a real HTTP hop that loses
// answers (test/helpers/load-balancer.ts); test/cluster/refresh-grace.test.ts does the same over
// three server processes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTokenStore, createTwofoldClient, type TwofoldClient, type TwofoldClientOptions } from '../../src/client/index.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/client-server.js';
import { strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { startLoadBalancer, type LoadBalancer } from '../helpers/load-balancer.js';

let t: ListeningTwofold;
let hop: LoadBalancer;

beforeAll(async () => {
  t = await startListeningTwofold();
});
afterAll(async () => t.close());
afterEach(async () => hop?.close());

const isRefresh = (request: { method: string; path: string }) => request.method === 'POST' && request.path === '/v1/token/refresh';
const refreshesThroughHop = () => hop.forwarded.filter(isRefresh);

async function signedInClient(options: Partial<TwofoldClientOptions> = {}): Promise<{ client: TwofoldClient; sessionId: string }> {
  hop = await startLoadBalancer([t.baseUrl]);
  const client = createTwofoldClient({ baseUrl: hop.url, now: t.clock.now, ...options });
  const registration = await client.register({ username: uniqueUsername('lost'), password: strongPassword });
  await registration.pending.confirmFactor(registration.totp.factor_id, { code: totpCode(t, registration.totp.secret) });
  return { client, sessionId: (await client.getMe()).session.id };
}

const eventsOf = (type: string, sessionId: string) => t.events.filter((event) => event.type === type && event.sessionId === sessionId);

describe('SS-02: a refresh whose answer was lost', () => {
  it('SS-02: connection cut after the server rotated — retried with the same token, answered with the same pair, still signed in', async () => {
    const { client, sessionId } = await signedInClient();
    const before = (await client.getTokens())!;
    hop.loseAnswers({ match: isRefresh, how: 'reset' });

    const after = await client.refreshTokens();

    const attempts = refreshesThroughHop();
    expect(attempts.map((attempt) => [attempt.status, attempt.lost])).toEqual([
      [200, 'reset'],
      [200, undefined],
    ]);
    expect(attempts[1]!.body).toBe(attempts[0]!.body);
    expect(JSON.parse(attempts[0]!.body)).toEqual({ refresh_token: before.refreshToken });
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(await client.getTokens()).toEqual(after);
    expect(eventsOf('token.refreshed', sessionId)).toHaveLength(1);
    expect(eventsOf('token.refresh_grace_replay', sessionId)).toHaveLength(1);
    expect(eventsOf('token.refresh_reuse_detected', sessionId)).toEqual([]);
    // Signed in, and the family goes on.
    expect((await client.getMe()).session.id).toBe(sessionId);
    expect((await client.refreshTokens()).refreshToken).not.toBe(after.refreshToken);
  });

  it('SS-02: no answer within refreshAttemptTimeoutMs — retried with the same token, still signed in', async () => {
    const { client, sessionId } = await signedInClient({ refreshAttemptTimeoutMs: 300 });
    hop.loseAnswers({ match: isRefresh, how: 'hang' });

    await client.refreshTokens();

    expect(refreshesThroughHop().map((attempt) => attempt.lost)).toEqual(['hang', undefined]);
    expect((await client.getMe()).session.id).toBe(sessionId);
    expect(eventsOf('token.refresh_reuse_detected', sessionId)).toEqual([]);
  });

  it('SS-02: 10 calls at once with an expired access token while the refresh answer is lost — one refresh flight (the same token twice), every call succeeds', async () => {
    const { client, sessionId } = await signedInClient();
    t.clock.advanceSeconds(601);
    hop.loseAnswers({ match: isRefresh, how: 'reset' });

    const answers = await Promise.all(Array.from({ length: 10 }, () => client.getMe()));

    expect(answers.every((me) => me.session.id === sessionId)).toBe(true);
    const attempts = refreshesThroughHop();
    expect(attempts).toHaveLength(2);
    expect(new Set(attempts.map((attempt) => attempt.body)).size).toBe(1);
    expect(eventsOf('token.refresh_reuse_detected', sessionId)).toEqual([]);
  });

  it('SS-02: never sends a token older than the store holds — another client sharing the store rotated while this one waited to retry, so its tokens are taken and nothing is re-sent', async () => {
    const store = createMemoryTokenStore();
    const { client, sessionId } = await signedInClient({ tokenStore: store });
    const before = (await store.get())!;
    // A second tab on the same store, talking to the server directly.
    const otherTab = createTwofoldClient({ baseUrl: t.baseUrl, now: t.clock.now, tokenStore: store });
    let otherTabGot: Awaited<ReturnType<TwofoldClient['refreshTokens']>> | undefined;
    hop.loseAnswers({ match: isRefresh, how: 'reset', beforeLoss: async () => void (otherTabGot = await otherTab.refreshTokens()) });

    const result = await client.refreshTokens();

    expect(refreshesThroughHop()).toHaveLength(1);
    expect(otherTabGot!.refreshToken).not.toBe(before.refreshToken);
    expect(result).toEqual(otherTabGot);
    expect(await store.get()).toEqual(otherTabGot);
    expect((await client.getMe()).session.id).toBe(sessionId);
    expect(eventsOf('token.refresh_reuse_detected', sessionId)).toEqual([]);
  });

  it('SS-02: a refused refresh (401) is not retried, and the tokens are dropped', async () => {
    const { client } = await signedInClient();
    const stale = (await client.getTokens())!;
    await createTwofoldClient({ baseUrl: t.baseUrl, now: t.clock.now, tokenStore: createMemoryTokenStore(stale) }).logout();

    await expect(client.refreshTokens()).rejects.toMatchObject({ code: 'invalid_token', status: 401 });

    expect(refreshesThroughHop().map((attempt) => attempt.status)).toEqual([401]);
    expect(await client.getTokens()).toBeUndefined();
  });

  it('while Twofold cannot be reached the retries stop within refreshRetryWindowMs, the tokens are kept, and they work once it is back', async () => {
    const { client, sessionId } = await signedInClient({ refreshRetryWindowMs: 1000 });
    const before = (await client.getTokens())!;
    hop.setDown(true);

    await expect(client.refreshTokens()).rejects.toMatchObject({ code: 'network_error' });

    expect(await client.getTokens()).toEqual(before);
    hop.setDown(false);
    const after = await client.refreshTokens();
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect((await client.getMe()).session.id).toBe(sessionId);
  });

  it('with refreshRetryWindowMs: 0 a lost answer is not retried (the error is the caller\'s)', async () => {
    const { client } = await signedInClient({ refreshRetryWindowMs: 0 });
    hop.loseAnswers({ match: isRefresh, how: 'reset' });

    await expect(client.refreshTokens()).rejects.toMatchObject({ code: 'network_error' });

    expect(refreshesThroughHop()).toHaveLength(1);
  });
});
