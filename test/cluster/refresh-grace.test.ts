// The refresh reuse grace across instances (SS-02): three real
// server processes on one PostgreSQL and one Redis. A refresh answer lost on its way back, page
// loads racing on different instances and twofold/client behind a load balancer all keep the
// person signed in; reuse after the grace or after the child was used still revokes the family,
// and the sealed answer leaves the database when the grace ends.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTwofoldClient } from '../../src/client/index.js';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { testDatabaseUrl, testRedisUrl, withClient } from '../helpers/backend.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { call } from '../helpers/http-client.js';
import { startLoadBalancer, type LoadBalancer } from '../helpers/load-balancer.js';
import { requirement } from '../helpers/requirements.js';

const available = requirement('PostgreSQL + Redis', testDatabaseUrl !== undefined && testRedisUrl !== undefined, 'set TWOFOLD_TEST_DATABASE_URL and TWOFOLD_TEST_REDIS_URL (see .ci/run)');
const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

describe.runIf(available)('the refresh reuse grace on three instances', () => {
  let cluster: Cluster;
  let urls: string[];
  let balancer: LoadBalancer;
  let counter = 0;
  const at = (i: number) => urls[i % urls.length]!;

  beforeAll(async () => {
    cluster = await startCluster(3);
    urls = cluster.instances.map((instance) => instance.baseUrl);
    balancer = await startLoadBalancer(urls);
  }, 120_000);
  afterAll(async () => {
    await balancer?.close();
    await cluster?.stop();
  });

  const code = (secret: string) => generateTotpCode(secret, totpStepAt(Date.now()));
  const username = () => `grace-user-${process.pid}-${(counter += 1)}`;
  const password = 'a cluster test passphrase';

  async function newUser(): Promise<{ accessToken: string; refreshToken: string }> {
    const registered = await call(at(0), 'POST', '/v1/register', { username: username(), password });
    expect(registered.status).toBe(201);
    const confirmed = await call(at(1), 'POST', `/v1/factors/${registered.body.totp.factor_id}/verify`, { code: code(registered.body.totp.secret) }, registered.body.mfa_token);
    expect(confirmed.status).toBe(200);
    return { accessToken: confirmed.body.access_token, refreshToken: confirmed.body.refresh_token };
  }

  const refreshOn = (instance: number, refreshToken: string) => call(at(instance), 'POST', '/v1/token/refresh', { refresh_token: refreshToken });
  const database = <T>(work: Parameters<typeof withClient<T>>[1]) => withClient(cluster.databaseUrl, work);
  const tokenRow = (token: string) => database(async (client) => (await client.query('select * from refresh_tokens where token_hash = $1', [digest(token)])).rows[0]);

  it('SS-02: 20 refreshes of one token at once over the 3 instances — all answered with one pair, one child in the database, the session lives', async () => {
    const user = await newUser();

    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => refreshOn(i, user.refreshToken)));

    expect(results.map((result) => result.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(new Set(results.map((result) => result.body.refresh_token)).size).toBe(1);
    expect(new Set(results.map((result) => result.body.access_token)).size).toBe(1);
    const parent = await tokenRow(user.refreshToken);
    const children = await database(async (client) => (await client.query('select id from refresh_tokens where parent_id = $1', [parent.id])).rows);
    expect(children).toHaveLength(1);
    for (let i = 0; i < 3; i += 1) expect((await call(at(i), 'GET', '/v1/me', undefined, results[0]!.body.access_token)).status).toBe(200);
    expect((await refreshOn(2, results[0]!.body.refresh_token)).status).toBe(200);
  });

  it('SS-02: the parent replayed on another instance after its child was used — the family is revoked on every instance', async () => {
    const user = await newUser();
    const first = await refreshOn(0, user.refreshToken);
    const second = await refreshOn(1, first.body.refresh_token);
    expect(second.status).toBe(200);

    expect((await refreshOn(2, user.refreshToken)).status).toBe(401);

    expect((await refreshOn(0, second.body.refresh_token)).status).toBe(401);
    for (let i = 0; i < 3; i += 1) expect((await call(at(i), 'GET', '/v1/me', undefined, second.body.access_token)).status).toBe(401);
  });

  it('SS-02: once the grace has passed (real time) the sealed answer is gone from PostgreSQL, and the rotated token replayed on another instance revokes the family', async () => {
    const user = await newUser();
    const first = await refreshOn(0, user.refreshToken);
    expect(first.status).toBe(200);
    expect((await tokenRow(user.refreshToken)).grace_answer_ciphertext).toMatch(/^v1\./);
    const everything = await database(async (client) => JSON.stringify((await client.query('select * from refresh_tokens')).rows));
    for (const token of [user.refreshToken, first.body.refresh_token, first.body.access_token]) expect(everything).not.toContain(token);

    // Every instance sweeps each second; the answer goes within a second of its 10 s grace.
    await vi.waitFor(async () => expect((await tokenRow(user.refreshToken)).grace_answer_ciphertext).toBeNull(), { timeout: 30_000, interval: 250 });

    expect((await refreshOn(2, user.refreshToken)).status).toBe(401);
    expect((await refreshOn(1, first.body.refresh_token)).status).toBe(401);
  }, 60_000);

  it('SS-02: twofold/client behind a load balancer over the 3 instances — the first refresh answer lost: the retry reaches another instance, gets the same pair, and the person stays signed in', async () => {
    const client = createTwofoldClient({ baseUrl: balancer.url });
    const registration = await client.register({ username: username(), password });
    await registration.pending.confirmFactor(registration.totp.factor_id, { code: code(registration.totp.secret) });
    const before = (await client.getTokens())!;
    const isRefresh = (request: { method: string; path: string }) => request.method === 'POST' && request.path === '/v1/token/refresh';
    const seen = balancer.forwarded.length;
    balancer.loseAnswers({ match: isRefresh, how: 'reset' });

    const after = await client.refreshTokens();

    const attempts = balancer.forwarded.slice(seen).filter(isRefresh);
    expect(attempts.map((attempt) => [attempt.status, attempt.lost])).toEqual([
      [200, 'reset'],
      [200, undefined],
    ]);
    expect(attempts[1]!.target).not.toBe(attempts[0]!.target);
    expect(attempts[1]!.body).toBe(attempts[0]!.body);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    // Signed in on every instance, and the family goes on.
    const me = await Promise.all(Array.from({ length: 6 }, () => client.getMe()));
    expect(new Set(me.map((answer) => answer.session.id)).size).toBe(1);
    expect((await client.refreshTokens()).refreshToken).not.toBe(after.refreshToken);
  });

  it('SS-02: twofold/client over the 3 instances — 10 calls at once that each need a refresh share one, whose answer is lost once: two refresh requests with one token, on two instances, and all 10 calls succeed', async () => {
    // A leeway as long as the access token's life: every call refreshes first.
    const client = createTwofoldClient({ baseUrl: balancer.url, refreshLeewaySeconds: 600 });
    const registration = await client.register({ username: username(), password });
    await registration.pending.confirmFactor(registration.totp.factor_id, { code: code(registration.totp.secret) });
    const isRefresh = (request: { method: string; path: string }) => request.method === 'POST' && request.path === '/v1/token/refresh';
    const seen = balancer.forwarded.length;
    balancer.loseAnswers({ match: isRefresh, how: 'reset' });

    const answers = await Promise.all(Array.from({ length: 10 }, () => client.getMe()));

    expect(new Set(answers.map((me) => me.session.id)).size).toBe(1);
    const attempts = balancer.forwarded.slice(seen).filter(isRefresh);
    expect(attempts.map((attempt) => attempt.lost)).toEqual(['reset', undefined]);
    expect(new Set(attempts.map((attempt) => attempt.target)).size).toBe(2);
    expect(new Set(attempts.map((attempt) => attempt.body)).size).toBe(1);
    expect(balancer.forwarded.slice(seen).filter((request) => request.path === '/v1/me').every((request) => request.status === 200)).toBe(true);
  });

  it('SS-02: 10 page loads at once over the 3 instances with an expired access cookie — every one signed in with the same new cookies, and the session lives', async () => {
    const user = await newUser();
    const pageLoad = (instance: number) =>
      fetch(`${at(instance)}/account`, { headers: { cookie: `__Host-twofold-refresh=${user.refreshToken}` }, redirect: 'manual', signal: AbortSignal.timeout(15_000) });

    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => pageLoad(i)));

    expect(responses.map((response) => response.status)).toEqual(Array.from({ length: 10 }, () => 200));
    const newRefreshCookies = responses.map((response) => response.headers.getSetCookie().find((cookie) => cookie.startsWith('__Host-twofold-refresh='))?.split(';')[0]);
    expect(new Set(newRefreshCookies).size).toBe(1);
    const newRefreshToken = newRefreshCookies[0]!.slice('__Host-twofold-refresh='.length);
    expect(newRefreshToken).toMatch(/^tfr_/);
    expect((await refreshOn(1, newRefreshToken)).status).toBe(200);
  });
});
