// GET /healthz (the process is alive) and /readyz (its database and signing key answer).
import { describe, expect, it } from 'vitest';
import { getJson } from '../helpers/flow.js';
import { testSharedState } from '../helpers/backend.js';
import { startTestTwofold } from '../helpers/twofold.js';

describe('health', () => {
  it('/healthz says the process is alive; /readyz checks the database and the signing key', async () => {
    const t = await startTestTwofold();
    try {
      expect((await getJson(t.app, '/healthz')).json()).toEqual({ status: 'ok' });
      const ready = await getJson(t.app, '/readyz');
      expect(ready.statusCode).toBe(200);
      const redis = testSharedState === 'redis' ? { redis: 'ok' } : {};
      expect(ready.json()).toEqual({ status: 'ok', checks: { database: 'ok', ...redis, signing_key: 'ok' } });
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
    await t.storage.dispose();
  });
});

describe('unknown routes and methods', () => {
  it('an unknown path is 404 not_found; a known path with another method is 405 with Allow', async () => {
    const t = await startTestTwofold();
    try {
      const missing = await t.app.inject({ method: 'GET', url: '/v1/nothing-here?x=1' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ code: 'not_found', detail: 'No route GET /v1/nothing-here.' });
      const wrongMethod = await t.app.inject({ method: 'DELETE', url: '/v1/login' });
      expect(wrongMethod.statusCode).toBe(405);
      expect(wrongMethod.json()).toMatchObject({ code: 'method_not_allowed' });
      expect(wrongMethod.headers['allow']).toBe('POST');
      const withParameter = await t.app.inject({ method: 'GET', url: '/v1/factors/fac_123/verify' });
      expect(withParameter.statusCode).toBe(405);
      expect(withParameter.headers['allow']).toBe('POST');
      expect((await t.app.inject({ method: 'PUT', url: '/v1/me' })).headers['allow']).toBe('GET, HEAD');
    } finally {
      await t.close();
    }
  });
});
