// twofold/client's token handling against a real server: one refresh request however many callers
// need it (refresh tokens rotate, and a second parallel refresh would revoke the family), refresh
// before expiry, one retry after the server refused an expired token, and logout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTokenStore, createTwofoldClient, TwofoldClientError, type TwofoldClient } from '../../src/client/index.js';
import { createTestClient, startListeningTwofold, type ListeningTwofold } from '../helpers/client-server.js';
import { postJson, strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';

let t: ListeningTwofold;

beforeAll(async () => {
  t = await startListeningTwofold();
});

afterAll(async () => {
  await t.close();
});

async function signUp(client: TwofoldClient): Promise<{ username: string; secret: string }> {
  const registration = await client.register({ username: uniqueUsername('tokens'), password: strongPassword });
  await registration.pending.confirmFactor(registration.totp.factor_id, { code: totpCode(t, registration.totp.secret) });
  return { username: registration.user.username, secret: registration.totp.secret };
}

const refreshCalls = (paths: string[]) => paths.filter((path) => path === '/v1/token/refresh').length;

describe('refreshTokens(): single-flight', () => {
  it('SS-02: 10 concurrent refreshes send exactly one request, all callers get the same tokens, and the family stays alive', async () => {
    const { client, recorder } = createTestClient(t);
    await signUp(client);
    const before = (await client.getTokens())!;
    recorder.calls.length = 0;

    const results = await Promise.all(Array.from({ length: 10 }, () => client.refreshTokens()));

    expect(refreshCalls(recorder.paths())).toBe(1);
    expect(new Set(results.map((tokens) => tokens.refreshToken)).size).toBe(1);
    expect(results[0]!.refreshToken).not.toBe(before.refreshToken);
    expect(await client.getTokens()).toEqual(results[0]);
    // No reuse was detected: the session and the new refresh token still work.
    expect((await client.getMe()).user).toBeDefined();
    const next = await client.refreshTokens();
    expect(next.refreshToken).not.toBe(results[0]!.refreshToken);
    expect(refreshCalls(recorder.paths())).toBe(2);
    // The old one is spent: presenting it is reuse (the server's side of SS-02).
    const reuse = await postJson(t.app, '/v1/token/refresh', { refresh_token: before.refreshToken });
    expect(reuse.statusCode).toBe(401);
  });

  it('SS-02: 10 concurrent calls with an expired access token share one refresh, then all succeed', async () => {
    const { client, recorder } = createTestClient(t);
    await signUp(client);
    t.clock.advanceSeconds(601);
    recorder.calls.length = 0;

    const answers = await Promise.all(Array.from({ length: 10 }, () => client.getMe()));

    expect(answers.every((me) => me.user.id === answers[0]!.user.id)).toBe(true);
    expect(refreshCalls(recorder.paths())).toBe(1);
    expect(recorder.summary().filter((line) => line.endsWith(' 401'))).toEqual([]);
  });

  it('SS-02: two clients refreshing the same token without coordination both get the one new pair (the server\'s reuse grace), and the session lives', async () => {
    const { client } = createTestClient(t);
    await signUp(client);
    const shared = (await client.getTokens())!;
    const tabs = [0, 1].map(() => createTwofoldClient({ baseUrl: t.baseUrl, now: t.clock.now, tokenStore: createMemoryTokenStore(shared) }));

    const outcomes = await Promise.all(tabs.map((tab) => tab.refreshTokens()));

    expect(outcomes[1]).toMatchObject({ refreshToken: outcomes[0]!.refreshToken, accessToken: outcomes[0]!.accessToken });
    // Each tab goes on; the first to refresh next rotates, the other's next refresh is the one
    // real reuse left, so tabs should still share a store (and so one single flight).
    expect((await tabs[0]!.refreshTokens()).refreshToken).not.toBe(outcomes[0]!.refreshToken);
  });

  it('a second refresh after the first has settled is a new request (the single flight ends with its answer)', async () => {
    const { client, recorder } = createTestClient(t);
    await signUp(client);
    recorder.calls.length = 0;
    const first = await client.refreshTokens();
    const second = await client.refreshTokens();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(refreshCalls(recorder.paths())).toBe(2);
  });
});

describe('automatic refresh', () => {
  it('SS-03: refreshes before calling when the access token is about to expire (no 401 on the way)', async () => {
    const { client, recorder } = createTestClient(t);
    await signUp(client);
    const before = (await client.getTokens())!;
    t.clock.advanceSeconds(600 - 29); // inside the 30 s leeway
    recorder.calls.length = 0;

    await client.getMe();

    expect(recorder.summary()).toEqual(['POST /v1/token/refresh 200', 'GET /v1/me 200']);
    expect((await client.getTokens())!.accessToken).not.toBe(before.accessToken);
  });

  it('SS-03: after a 401 invalid_token from an expired access token it refreshes once and retries', async () => {
    // This client's clock does not know the token expired (it runs on real time); the server's does.
    const { client, recorder } = createTestClient(t, { now: Date.now });
    await signUp(client);
    t.clock.advanceSeconds(600 + 61); // past expiry and the server's 60 s leeway
    recorder.calls.length = 0;

    const me = await client.getMe();

    expect(me.session.acr).toBe('aal2');
    expect(recorder.summary()).toEqual(['GET /v1/me 401', 'POST /v1/token/refresh 200', 'GET /v1/me 200']);
  });

  it('SS-04: a refresh keeps the session\'s acr, amr and auth_time', async () => {
    const { client } = createTestClient(t);
    await signUp(client);
    const before = (await client.getMe()).session;
    t.clock.advanceSeconds(601);
    const after = (await client.getMe()).session;
    expect(after).toMatchObject({ id: before.id, acr: before.acr, amr: before.amr, auth_time: before.auth_time });
  });

  it('a session that ended elsewhere: the retry\'s refresh fails, the tokens are dropped, and the error is invalid_token', async () => {
    const store = createMemoryTokenStore();
    const { client } = createTestClient(t, { tokenStore: store });
    await signUp(client);
    const other = createTwofoldClient({ baseUrl: t.baseUrl, now: t.clock.now, tokenStore: createMemoryTokenStore((await store.get())!) });
    await other.logout();

    const error = await client.getMe().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TwofoldClientError);
    expect(error).toMatchObject({ code: 'invalid_token', status: 401 });
    expect(await store.get()).toBeUndefined();
  });
});

describe('logout()', () => {
  it('SS-05: logout ends the session: getMe() then fails, here (not_signed_in) and with the old tokens (invalid_token)', async () => {
    const { client, recorder } = createTestClient(t);
    await signUp(client);
    const tokens = (await client.getTokens())!;
    recorder.calls.length = 0;

    await client.logout();

    expect(recorder.summary()).toEqual(['POST /v1/logout 204']);
    expect(await client.getTokens()).toBeUndefined();
    await expect(client.getMe()).rejects.toMatchObject({ code: 'not_signed_in', status: undefined });

    const stale = createTestClient(t, { tokenStore: createMemoryTokenStore(tokens) });
    await expect(stale.client.getMe()).rejects.toMatchObject({ code: 'invalid_token', status: 401 });
    // The old refresh token died with the session too.
    expect(stale.recorder.summary()).toEqual(['GET /v1/me 401', 'POST /v1/token/refresh 401']);
  });

  it('logout() when signed out sends nothing; on a session that already ended it still forgets the tokens', async () => {
    const { client, recorder } = createTestClient(t);
    await client.logout();
    expect(recorder.calls).toEqual([]);

    await signUp(client);
    const tokens = (await client.getTokens())!;
    await createTwofoldClient({ baseUrl: t.baseUrl, now: t.clock.now, tokenStore: createMemoryTokenStore(tokens) }).logout();
    await client.logout();
    expect(await client.getTokens()).toBeUndefined();
  });
});
