// The single-instance lease on the real database (SQLite, PostgreSQL): one holder at a time, under
// a race too; a released lease is free at once; a lapsed one (a crashed holder) is taken over; a
// live one that keeps being renewed is never taken.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnotherInstanceRunningError, holdSingleInstanceLease } from '../../src/flows/instance/single-instance.js';
import { acquireInstanceLease } from '../../src/store/repositories/instance-leases.js';
import { databaseFactories, type TestDatabase } from './databases.js';

const timing = { ttlMs: 400, renewEveryMs: 100 };
const onLost = () => undefined;

describe.each(databaseFactories)('the single-instance lease on $name', (factory) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await factory.open();
  });
  afterAll(async () => database.close());

  it('of 20 instances starting at once, exactly one holds the lease', async () => {
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => acquireInstanceLease(database.db, { name: 'race', holder: `ins_${i}`, host: 'elsewhere', pid: i, expires_at: now + 60_000 }, now)));
    expect(new Set(results.map((held) => held?.holder)).size).toBe(1);
  });

  it('a second holder waits out the lease while the first keeps renewing it, then refuses', async () => {
    const first = await holdSingleInstanceLease(database.db, { timing, onLost });
    try {
      await expect(holdSingleInstanceLease(database.db, { timing, onLost })).rejects.toThrow(AnotherInstanceRunningError);
    } finally {
      await first.release();
    }
    // Released: the next one takes it at once.
    const next = await holdSingleInstanceLease(database.db, { timing, onLost });
    await next.release();
  });

  it('a lease nobody renews any more (its holder crashed on another host) is taken over once it lapses', async () => {
    const now = Date.now();
    const crashed = { name: 'single-instance', holder: 'ins_crashed', host: 'another-host', pid: process.pid, expires_at: now + 300 };
    expect((await acquireInstanceLease(database.db, crashed, now))?.holder).toBe('ins_crashed');
    const successor = await holdSingleInstanceLease(database.db, { timing, onLost });
    const row = await database.db.selectFrom('instance_leases').selectAll().where('name', '=', 'single-instance').executeTakeFirst();
    expect(row?.holder).not.toBe('ins_crashed');
    await successor.release();
  });

  it('a holder on this host whose process is gone (kill -9) is replaced at once, long before its lease lapses', async () => {
    const now = Date.now();
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await acquireInstanceLease(database.db, { name: 'single-instance', holder: 'ins_killed', host: hostname(), pid: gone, expires_at: now + 600_000 }, now);
    const successor = await holdSingleInstanceLease(database.db, { timing: { ttlMs: 600_000, renewEveryMs: 100_000 }, onLost });
    const row = await database.db.selectFrom('instance_leases').selectAll().where('name', '=', 'single-instance').executeTakeFirst();
    expect(row?.holder).not.toBe('ins_killed');
    expect(row?.pid).toBe(process.pid);
    await successor.release();
  });
});
