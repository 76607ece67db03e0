// Three real server processes on one PostgreSQL and one Redis. Every single-use
// and counting guarantee of the flow holds when the competing requests land on different
// instances at the same moment; tokens, logouts and key rotations cross instances.
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { migrations as allMigrations } from '../../src/store/migrations/index.js';
import { testDatabaseUrl, testRedisUrl, withClient } from '../helpers/backend.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { call } from '../helpers/http-client.js';
import { runCommand } from '../helpers/process.js';
import { requirement } from '../helpers/requirements.js';

const available = requirement('PostgreSQL + Redis', testDatabaseUrl !== undefined && testRedisUrl !== undefined, 'set TWOFOLD_TEST_DATABASE_URL and TWOFOLD_TEST_REDIS_URL (see .ci/run)');

describe.runIf(available)('three instances on one PostgreSQL + Redis', () => {
  let cluster: Cluster;
  let urls: string[];
  let counter = 0;
  const at = (i: number) => urls[i % urls.length]!;

  beforeAll(async () => {
    cluster = await startCluster(3, { TWOFOLD_THROTTLE_FREE_FAILURES: '5', TWOFOLD_MFA_MAX_ATTEMPTS: '10' });
    urls = cluster.instances.map((instance) => instance.baseUrl);
  }, 120_000);
  afterAll(async () => cluster?.stop());

  const code = (secret: string, offset = 0) => generateTotpCode(secret, totpStepAt(Date.now()) + offset);

  /** A confirmed user; the confirmation used the current step, so logins use the next one. */
  async function newUser(instance = 0) {
    counter += 1;
    const username = `cluster-user-${process.pid}-${counter}`;
    const password = 'a cluster test passphrase';
    const registered = await call(at(instance), 'POST', '/v1/register', { username, password });
    expect(registered.status).toBe(201);
    const secret: string = registered.body.totp.secret;
    const confirmed = await call(at(instance), 'POST', `/v1/factors/${registered.body.totp.factor_id}/verify`, { code: code(secret) }, registered.body.mfa_token);
    expect(confirmed.status).toBe(200);
    return { username, password, secret, tokens: confirmed.body, recoveryCodes: confirmed.body.recovery_codes as string[] };
  }

  const login = async (instance: number, user: { username: string; password: string }) => {
    const response = await call(at(instance), 'POST', '/v1/login', { username: user.username, password: user.password });
    expect(response.status).toBe(200);
    return response.body.mfa_token as string;
  };

  /**
   * Many pending logins of one user, three at a time (one per instance): a right password is a
   * guess too until it has been checked, so a crowd of them at once would wait like any burst.
   */
  const loginMany = async (count: number, user: { username: string; password: string }) => {
    const tokens: string[] = [];
    while (tokens.length < count) tokens.push(...(await Promise.all(Array.from({ length: Math.min(3, count - tokens.length) }, (_, i) => login(tokens.length + i, user)))));
    return tokens;
  };

  it('migrated exactly once and agreed on one signing key while starting together', async () => {
    await withClient(cluster.databaseUrl, async (client) => {
      const migrations = await client.query('select name from kysely_migration');
      expect(migrations.rows.map((row) => row.name).sort()).toEqual(Object.keys(allMigrations).sort());
      const keys = await client.query('select kid from signing_keys');
      expect(keys.rowCount).toBe(1);
    });
    const kids = await Promise.all(urls.map(async (url) => (await call(url, 'GET', '/.well-known/jwks.json')).body.keys.map((key: { kid: string }) => key.kid)));
    expect(new Set(kids.flat()).size).toBe(1);
  });

  it('OT-04: one TOTP code sent to 12 pending logins spread over the instances — exactly one succeeds', async () => {
    const user = await newUser();
    const mfaTokens = await loginMany(12, user);
    const next = code(user.secret, 1);
    const results = await Promise.all(mfaTokens.map((token, i) => call(at(i), 'POST', '/v1/mfa/verify', { code: next }, token)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    // The replays are wrong guesses: evaluated (401) until the account budget says wait (429).
    expect(results.filter((r) => r.status === 401 || r.status === 429)).toHaveLength(11);
  });

  it('SS-02: one refresh token refreshed 20 times at once across instances — one rotation, every answer its pair, and the session lives', async () => {
    const user = await newUser();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(at(i), 'POST', '/v1/token/refresh', { refresh_token: user.tokens.refresh_token })));
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    // The reuse grace (test/cluster/refresh-grace.test.ts): the losers of the rotation get the winner's answer.
    expect(new Set(results.map((r) => r.body.refresh_token)).size).toBe(1);
    expect((await call(at(1), 'POST', '/v1/token/refresh', { refresh_token: results[0]!.body.refresh_token })).status).toBe(200);
  });

  it('RC-02: one recovery code raced by 10 logins across instances — exactly one succeeds', async () => {
    const user = await newUser();
    const mfaTokens = await loginMany(10, user);
    const results = await Promise.all(mfaTokens.map((token, i) => call(at(i), 'POST', '/v1/mfa/verify', { recovery_code: user.recoveryCodes[0] }, token)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('FL-03: one mfa_token verified concurrently on all instances — one success', async () => {
    const user = await newUser();
    const mfaToken = await login(0, user);
    // Nine different, all valid recovery codes: only the token's single use can stop the others.
    const results = await Promise.all(user.recoveryCodes.slice(0, 9).map((recoveryCode, i) => call(at(i), 'POST', '/v1/mfa/verify', { recovery_code: recoveryCode }, mfaToken)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
  });

  it('LG-04: wrong-password throttling counts the same wherever the attempts land', async () => {
    const user = await newUser();
    for (let i = 0; i < 6; i += 1) expect((await call(at(i), 'POST', '/v1/login', { username: user.username, password: 'not the password at all' })).status).toBe(401);
    for (let i = 0; i < 3; i += 1) {
      const response = await call(at(i), 'POST', '/v1/login', { username: user.username, password: user.password });
      expect(response.status).toBe(429);
      expect(response.body.code).toBe('too_many_attempts');
    }
  });

  /**
   * The budget of the cluster's account throttle (5 free failures and the one that starts the first
   * wait), plus one guess for each doubling wait (1 s, 2 s, 4 s …) that fully elapsed while the
   * burst was still arriving: that is the throttle working as designed in real time.
   */
  const budgetAfter = (elapsedMs: number) => 6 + Math.floor(Math.log2(elapsedMs / 1000 + 1));

  it('RC-01: 1,000 wrong TOTP codes for one account over 100 mfa_tokens, spread over the three instances, evaluate only the budget', async () => {
    const user = await newUser();
    const mfaTokens = await loginMany(100, user);
    const wrong = String((Number(code(user.secret)) + 1) % 1_000_000).padStart(6, '0');
    const started = Date.now();
    const results = await Promise.all(mfaTokens.flatMap((token, i) => Array.from({ length: 10 }, (_, j) => call(at(i + j), 'POST', '/v1/mfa/verify', { code: wrong }, token))));
    const elapsedMs = Date.now() - started;
    const evaluated = results.filter((r) => r.status === 401).length;
    expect(evaluated + results.filter((r) => r.status === 429).length, results.map((r) => r.status).join(',')).toBe(1000);
    expect(evaluated, `${evaluated} evaluated in ${elapsedMs} ms`).toBeLessThanOrEqual(budgetAfter(elapsedMs));
  });

  it('RC-01: 1,000 wrong passwords for one account spread over the three instances hash only the budget', async () => {
    const user = await newUser();
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => call(at(i), 'POST', '/v1/login', { username: user.username, password: `wrong password number ${i}` })));
    const elapsedMs = Date.now() - started;
    const evaluated = results.filter((r) => r.status === 401).length;
    expect(evaluated + results.filter((r) => r.status === 429).length, results.map((r) => r.status).join(',')).toBe(1000);
    expect(evaluated, `${evaluated} evaluated in ${elapsedMs} ms`).toBeLessThanOrEqual(budgetAfter(elapsedMs));
  });

  it('a token issued by one instance is accepted by the others; a logout on one is honoured by all within a second', async () => {
    const user = await newUser(0);
    for (let i = 0; i < 3; i += 1) expect((await call(at(i), 'GET', '/v1/me', undefined, user.tokens.access_token)).status).toBe(200);
    expect((await call(at(0), 'POST', '/v1/logout', undefined, user.tokens.access_token)).status).toBe(204);
    const started = Date.now();
    for (let i = 1; i < 3; i += 1) {
      let status = 200;
      while (status === 200 && Date.now() - started < 1000) status = (await call(at(i), 'GET', '/v1/me', undefined, user.tokens.access_token)).status;
      expect(status).toBe(401);
    }
  });

  it('a key rotation reaches every instance at once (pub/sub), and old tokens keep verifying', async () => {
    const user = await newUser(0);
    const oldKid = decodeProtectedHeader(user.tokens.access_token).kid;
    const rotated = await runCommand(process.execPath, ['dist/cli/main.js', 'keys', 'rotate', '--json'], cluster.env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const newKid = JSON.parse(rotated.stdout).kid;
    expect(newKid).not.toBe(oldKid);
    const started = Date.now();
    for (let i = 0; i < 3; i += 1) {
      let kid: string | undefined;
      while (kid !== newKid && Date.now() - started < 1000) {
        const mfaToken = await login(i, user);
        const response = await call(at(i), 'POST', '/v1/mfa/verify', { recovery_code: user.recoveryCodes[i] }, mfaToken);
        kid = decodeProtectedHeader(response.body.access_token).kid;
      }
      expect(kid, `instance ${i} still signs with the old key after a second`).toBe(newKid);
      const jwks = (await call(at(i), 'GET', '/.well-known/jwks.json')).body.keys.map((key: { kid: string }) => key.kid);
      expect(jwks).toEqual(expect.arrayContaining([oldKid, newKid]));
      expect((await call(at(i), 'GET', '/v1/me', undefined, user.tokens.access_token)).status).toBe(200);
    }
  });
});
