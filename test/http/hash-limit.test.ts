// Password hashing is bounded — at most N hashes in flight, a short queue, then
// 503 server_busy with Retry-After — and the event loop keeps answering meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, getJson, postJson, registerUser } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  // OWASP-sized hashes, so that each takes real time on the threadpool.
  t = await startTestTwofold({ env: { TWOFOLD_ARGON2_MEMORY_KIB: '19456', TWOFOLD_ARGON2_TIME_COST: '2', TWOFOLD_HASH_CONCURRENCY: '1', TWOFOLD_HASH_QUEUE_LIMIT: '3' } });
});
afterAll(async () => t.close());

describe('bounded hash work', () => {
  it('a login flood beyond concurrency + queue is answered 503 server_busy with Retry-After', async () => {
    const user = await registerUser(t);
    let peakInFlight = 0;
    let peakQueued = 0;
    const sample = setInterval(() => {
      peakInFlight = Math.max(peakInFlight, t.twofold.hashLimiter.inFlight);
      peakQueued = Math.max(peakQueued, t.twofold.hashLimiter.queued);
    }, 1);
    const responses = await Promise.all(Array.from({ length: 20 }, () => postJson(t.app, '/v1/login', { username: user.username, password: user.password })));
    clearInterval(sample);
    const busy = responses.filter((r) => r.statusCode === 503);
    const served = responses.filter((r) => r.statusCode === 200);
    expect(busy.length).toBeGreaterThan(0);
    expect(served.length).toBeGreaterThan(0);
    expect(busy.length + served.length).toBe(20);
    for (const response of busy) {
      expectProblem(response, 503, 'server_busy');
      expect(response.headers['retry-after']).toBe('1');
    }
    expect(peakInFlight).toBeLessThanOrEqual(1);
    expect(peakQueued).toBeLessThanOrEqual(3);
    // Nothing is left waiting once the flood is over.
    expect(t.twofold.hashLimiter.inFlight + t.twofold.hashLimiter.queued).toBe(0);
  });

  it('the event loop answers /healthz while hashes are running', async () => {
    const user = await registerUser(t);
    const logins = Array.from({ length: 4 }, () => postJson(t.app, '/v1/login', { username: user.username, password: user.password }));
    while (t.twofold.hashLimiter.inFlight === 0) await new Promise((resolve) => setImmediate(resolve));
    const health = await getJson(t.app, '/healthz');
    const hashWorkPending = t.twofold.hashLimiter.inFlight + t.twofold.hashLimiter.queued;
    expect(health.statusCode).toBe(200);
    expect(hashWorkPending).toBeGreaterThan(0);
    await Promise.all(logins);
  });
});
