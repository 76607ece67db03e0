// Two in-process instances on one PostgreSQL schema and one Redis prefix: a revocation on one
// reaches the other through pub/sub, which then refuses the session's tokens without a query.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresSchema, createRedisPrefix, testDatabaseUrl, testRedisUrl } from '../helpers/backend.js';
import { bearer, expectProblem, getJson, postJson, signUp } from '../helpers/flow.js';
import { requirement } from '../helpers/requirements.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const available = requirement('PostgreSQL + Redis', testDatabaseUrl !== undefined && testRedisUrl !== undefined, 'set TWOFOLD_TEST_DATABASE_URL and TWOFOLD_TEST_REDIS_URL (see .ci/run)');

async function eventually(check: () => boolean): Promise<boolean> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

describe.runIf(available)('pub/sub between instances', () => {
  let first: TestTwofold;
  let second: TestTwofold;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const schema = await createPostgresSchema();
    const redis = createRedisPrefix();
    dispose = async () => void (await Promise.all([schema.dispose(), redis.dispose()]));
    const env = { TWOFOLD_DATABASE_URL: schema.url, TWOFOLD_DATABASE_SCHEMA: schema.schema, TWOFOLD_REDIS_URL: testRedisUrl ?? '', TWOFOLD_REDIS_KEY_PREFIX: redis.prefix, TWOFOLD_ENCRYPTION_KEY: 'A'.repeat(43) };
    first = await startTestTwofold({ env });
    second = await startTestTwofold({ env, clock: first.clock });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await dispose?.();
  });

  it('a logout on one instance reaches the other at once, which refuses the token without a query', async () => {
    const user = await signUp(first);
    const sessionId = decodeJwt(user.accessToken)['sid'] as string;
    expect((await getJson(second.app, '/v1/me', bearer(user.accessToken))).statusCode).toBe(200);
    expect((await postJson(first.app, '/v1/logout', {}, bearer(user.accessToken))).statusCode).toBe(204);
    expect(await eventually(() => second.ctx.revokedSessions.has(sessionId, second.clock.now()))).toBe(true);
    const originalSelect = second.ctx.db.selectFrom.bind(second.ctx.db);
    let queries = 0;
    second.ctx.db.selectFrom = ((...args: Parameters<typeof originalSelect>) => ((queries += 1), originalSelect(...args))) as typeof originalSelect;
    try {
      expectProblem(await getJson(second.app, '/v1/me', bearer(user.accessToken)), 401, 'invalid_token');
      expect(queries).toBe(0);
    } finally {
      second.ctx.db.selectFrom = originalSelect;
    }
  });
});
