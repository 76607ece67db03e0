// GET /healthz and /readyz (issue point 8).
import { describe, expect, it } from 'vitest';
import { getJson } from '../helpers/flow.js';
import { startTestTwofold } from '../helpers/twofold.js';

describe('health', () => {
  it('/healthz says the process is alive; /readyz checks the database and the signing key', async () => {
    const t = await startTestTwofold();
    try {
      expect((await getJson(t.app, '/healthz')).json()).toEqual({ status: 'ok' });
      const ready = await getJson(t.app, '/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', signing_key: 'ok' } });
    } finally {
      await t.close();
    }
  });

  it('/readyz answers 503 and names the database when it is gone', async () => {
    const t = await startTestTwofold();
    await t.twofold.database.close();
    const ready = await getJson(t.app, '/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'unavailable', checks: { database: 'unavailable' } });
    expect((await getJson(t.app, '/healthz')).statusCode).toBe(200);
    await t.app.close();
  });
});
