// Without Redis an instance keeps its guess budgets, send budgets and revoked-session denylist in
// its own memory, so a second instance on the same database would double every budget (a burst
// spread over N instances would get N of them). RC-01's "1,000 guesses over 3 instances" therefore
// holds on SQLite and on PostgreSQL without Redis by there being one instance: a second one
// refuses to start. With Redis (the "postgres" project's other suites, test/cluster/) any number run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../src/twofold.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const timing = { ttlMs: 600, renewEveryMs: 200 };
const withoutRedis = { TWOFOLD_REDIS_URL: '' };

describe('RC-01: one instance per database without Redis', () => {
  let first: TestTwofold;
  beforeAll(async () => {
    first = await startTestTwofold({ env: withoutRedis, singleInstanceLease: timing });
  });
  afterAll(async () => first.close());

  const leaseRows = () => first.ctx.db.selectFrom('instance_leases').selectAll().execute();

  it('RC-01: a second instance on the same database refuses to start, naming the way out', async () => {
    const second = startTestTwofold({ env: withoutRedis, restartOf: first, singleInstanceLease: timing });
    await expect(second).rejects.toThrow(StartupError);
    await expect(second).rejects.toThrow(/Another Twofold instance \(pid \d+ on .+\) is running on this database without Redis.*TWOFOLD_REDIS_URL/);
    // The first instance kept its lease (renewed in the background) and keeps serving.
    expect(await leaseRows()).toHaveLength(1);
    expect((await first.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('a stopped instance releases the lease: the next one starts at once', async () => {
    const holder = (await leaseRows())[0]?.holder;
    await first.stop();
    first = await startTestTwofold({ env: withoutRedis, restartOf: first, singleInstanceLease: timing });
    const rows = await leaseRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.holder).not.toBe(holder);
  });
});
