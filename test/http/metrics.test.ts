// GET /metrics: Prometheus metrics of one Twofold instance — sign-in and
// second-factor outcomes (from the security events), request latency by route pattern, the
// password-hash queue, throttle decisions and Node's default metrics. Off by default; behind
// TWOFOLD_METRICS_TOKEN when set. Never a username, id, code, secret or token in the output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, signIn, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';
import type { MemoryStore } from '../../src/store/kv/memory.js';

const metricsToken = 'scrape-token-0123456789abcdef';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (0.0.4), failing on any line it does not recognise. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const declared = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment !== null) {
      if (comment[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(comment[3]);
        declared.set(comment[2]!, comment[3]!);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([+-]?(?:[0-9.e+-]+|nan|inf))$/i.exec(line);
    expect(sample, `not an exposition line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const [, name, value] of (sample![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[name!] = value!;
    const name = sample![1]!;
    const family = [...declared.keys()].find((declaredName) => name === declaredName || name.startsWith(`${declaredName}_`));
    expect(family, `sample ${name} has no # TYPE line`).toBeDefined();
    samples.push({ name, labels, value: Number(sample![3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels; undefined if none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  expect(matching.length, `${name}${JSON.stringify(labels)} matches ${matching.length} samples`).toBeLessThanOrEqual(1);
  return matching[0]?.value;
}

async function scrape(t: TestTwofold, headers: Record<string, string> = {}): Promise<{ text: string; samples: Sample[] }> {
  const response = await getJson(t.app, '/metrics', headers);
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(response.headers['cache-control']).toBe('no-store');
  return { text: response.body, samples: parseExposition(response.body) };
}

describe('GET /metrics when metrics are off (the default)', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold();
  });
  afterAll(async () => t.close());

  it('is 404 like any unknown path, and the instance has no registry', async () => {
    expectProblem(await getJson(t.app, '/metrics'), 404, 'not_found');
    expect(t.twofold.metrics).toBeUndefined();
  });
});

describe('GET /metrics with TWOFOLD_METRICS=on (no token)', () => {
  let t: TestTwofold;
  let user: SignedUp;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_METRICS: 'on' } });
    user = await signUp(t); // register + first TOTP code at /v1/factors/:id/verify
    await signIn(t, user); // login ok + TOTP ok
    expectProblem(await postJson(t.app, '/v1/login', { username: user.username, password: 'not the password at all' }), 401, 'invalid_credentials');
    t.clock.advanceSeconds(30);
    const mfaToken = await loginForMfaToken(t, user); // login ok
    const wrongCode = String((Number(totpCode(t, user.secret)) + 1) % 1_000_000).padStart(6, '0');
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { code: wrongCode }, bearer(mfaToken)), 401, 'invalid_code');
    // Not a code at all: refused before anything is spent or evaluated — no proof, no guess.
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { code: 'abc' }, bearer(mfaToken)), 400, 'invalid_request');
  });
  afterAll(async () => t.close());

  it('LOG-01: serves the exposition format, with no-store, hidden from the OpenAPI document', async () => {
    const { samples } = await scrape(t);
    expect(samples.length).toBeGreaterThan(50);
    const openapi = (await getJson(t.app, '/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).not.toContain('/metrics');
  });

  it('LOG-01: counts password steps and second-factor proofs by outcome, from the security events', async () => {
    const { samples } = await scrape(t);
    expect(valueOf(samples, 'twofold_logins_total', { outcome: 'ok' })).toBe(2);
    expect(valueOf(samples, 'twofold_logins_total', { outcome: 'failed' })).toBe(1);
    expect(valueOf(samples, 'twofold_logins_total', { outcome: 'throttled' })).toBe(0);
    expect(valueOf(samples, 'twofold_logins_total', { outcome: 'locked' })).toBe(0);
    // The enrollment code (completing the first sign-in) and the sign-in's code.
    expect(valueOf(samples, 'twofold_second_factor_verifications_total', { method: 'totp', outcome: 'ok' })).toBe(2);
    expect(valueOf(samples, 'twofold_second_factor_verifications_total', { method: 'totp', outcome: 'wrong_code' })).toBe(1);
    expect(valueOf(samples, 'twofold_second_factor_verifications_total', { method: 'totp', outcome: 'malformed' }) ?? 0).toBe(0);
    expect(valueOf(samples, 'twofold_security_events_total', { type: 'user.registered' })).toBe(1);
    expect(valueOf(samples, 'twofold_security_events_total', { type: 'login.password_failed' })).toBe(1);
  });

  it('LG-04: counts throttle decisions by scope and decision', async () => {
    const { samples } = await scrape(t);
    // 3 logins and 3 second-factor proofs each passed the account check and the IP check; the
    // registration only the IP check. The code that was no code spent no guess.
    expect(valueOf(samples, 'twofold_throttle_decisions_total', { scope: 'account', decision: 'allowed' })).toBe(6);
    expect(valueOf(samples, 'twofold_throttle_decisions_total', { scope: 'ip', decision: 'allowed' })).toBe(7);
    expect(valueOf(samples, 'twofold_throttle_decisions_total', { scope: 'account', decision: 'delayed' })).toBe(0);
    expect(valueOf(samples, 'twofold_throttle_decisions_total', { scope: 'account', decision: 'locked' })).toBe(0);
  });

  it('labels request durations by route pattern and status class, never by the raw URL', async () => {
    const factorId = user.factorId;
    expectProblem(await t.app.inject({ method: 'DELETE', url: '/v1/factors/fa_does_not_exist', headers: bearer((await signIn(t, user)).accessToken) }), 404, 'not_found');
    expectProblem(await getJson(t.app, `/no/such/path/${factorId}`), 404, 'not_found');
    const { text, samples } = await scrape(t);
    const count = (labels: Record<string, string>) => valueOf(samples, 'twofold_http_request_duration_seconds_count', labels);
    expect(count({ method: 'POST', route: '/v1/factors/:id/verify', status_class: '2xx' })).toBe(1);
    expect(count({ method: 'POST', route: '/v1/login', status_class: '2xx' })).toBe(3);
    expect(count({ method: 'POST', route: '/v1/login', status_class: '4xx' })).toBe(1);
    expect(count({ method: 'POST', route: '/v1/mfa/verify', status_class: '4xx' })).toBe(2);
    expect(count({ method: 'DELETE', route: '/v1/factors/:id', status_class: '4xx' })).toBe(1);
    expect(count({ method: 'GET', route: 'unmatched', status_class: '4xx' })).toBe(1);
    expect(valueOf(samples, 'twofold_http_request_duration_seconds_bucket', { route: '/v1/factors/:id', le: '+Inf' })).toBe(1);
    expect(valueOf(samples, 'twofold_http_request_duration_seconds_sum', { method: 'POST', route: '/v1/login', status_class: '2xx' })).toBeGreaterThan(0);
    expect(text).not.toContain('fa_does_not_exist');
    expect(text).not.toContain('/no/such/path');
    expect(text).not.toContain(factorId);
  });

  it('reports the password-hash queue (depth, capacity), hash times and refusals', async () => {
    const { samples } = await scrape(t);
    expect(valueOf(samples, 'twofold_password_hash_queue_depth', { state: 'in_flight' })).toBe(0);
    expect(valueOf(samples, 'twofold_password_hash_queue_depth', { state: 'queued' })).toBe(0);
    expect(valueOf(samples, 'twofold_password_hash_queue_capacity', { state: 'in_flight' })).toBe(t.config.password.hashConcurrency);
    expect(valueOf(samples, 'twofold_password_hash_queue_capacity', { state: 'queued' })).toBe(t.config.password.hashQueueLimit);
    // The dummy hash made at start-up and the registration's hash; one verify per login.
    expect(valueOf(samples, 'twofold_password_hash_duration_seconds_count', { operation: 'hash' })).toBe(2);
    expect(valueOf(samples, 'twofold_password_hash_duration_seconds_count', { operation: 'verify' })).toBeGreaterThanOrEqual(4);
    expect(valueOf(samples, 'twofold_password_hash_duration_seconds_sum', { operation: 'verify' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'twofold_password_hash_wait_seconds_count', { operation: 'verify' })).toBeGreaterThanOrEqual(4);
    expect(valueOf(samples, 'twofold_password_hash_refused_total', { operation: 'verify' })).toBe(0);
  });

  it("includes Node's default process metrics", async () => {
    const { samples } = await scrape(t);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(samples.some((sample) => sample.name === name), name).toBe(true);
    }
  });

  it('LOG-01: no username, password, code, secret, id or token appears in the output', async () => {
    const session = await signIn(t, user);
    const { text } = await scrape(t, bearer(session.accessToken));
    for (const value of [user.username, user.password, user.secret, user.userId, user.factorId, user.mfaToken, user.accessToken, user.refreshToken, session.accessToken, session.refreshToken, ...user.recoveryCodes]) {
      expect(text).not.toContain(value);
    }
    expect(text).not.toMatch(/127\.0\.0\.1/);
  });
});

describe('GET /metrics with TWOFOLD_METRICS_TOKEN', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_METRICS_TOKEN: metricsToken } });
  });
  afterAll(async () => t.close());

  it('LOG-01: answers 401 invalid_token without the token or with a wrong one', async () => {
    const missing = expectProblem(await getJson(t.app, '/metrics'), 401, 'invalid_token');
    expect(JSON.stringify(missing)).not.toContain(metricsToken);
    const wrong = await getJson(t.app, '/metrics', bearer(`${metricsToken}x`));
    expectProblem(wrong, 401, 'invalid_token');
    expect(wrong.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    expectProblem(await getJson(t.app, '/metrics', { authorization: `Basic ${Buffer.from(`x:${metricsToken}`).toString('base64')}` }), 401, 'invalid_token');
    // An access token of the API is not the metrics token either.
    const user = await signUp(t);
    expectProblem(await getJson(t.app, '/metrics', bearer(user.accessToken)), 401, 'invalid_token');
  });

  it('JW-14: refuses the token in the URL', async () => {
    expectProblem(await getJson(t.app, `/metrics?token=${metricsToken}`), 401, 'invalid_token');
  });

  it('serves the metrics with the token', async () => {
    const { samples } = await scrape(t, bearer(metricsToken));
    expect(valueOf(samples, 'twofold_logins_total', { outcome: 'ok' })).toBe(0);
  });
});

describe('GET /metrics with throttling', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_METRICS: 'on', TWOFOLD_THROTTLE_FREE_FAILURES: '1', TWOFOLD_THROTTLE_LOCK_FAILURES: '3' } });
  });
  afterAll(async () => t.close());

  it('LG-04: counts throttled and locked sign-ins, and the throttle decisions behind them', async () => {
    const user = await signUp(t);
    const login = (password: string) => postJson(t.app, '/v1/login', { username: user.username, password });
    expectProblem(await login('wrong password number one'), 401, 'invalid_credentials');
    expectProblem(await login('wrong password number one'), 401, 'invalid_credentials'); // 2nd: a wait starts
    expectProblem(await login(user.password), 429, 'too_many_attempts');
    t.clock.advanceSeconds(5);
    expectProblem(await login('wrong password number one'), 401, 'invalid_credentials'); // 3rd: locked
    expectProblem(await login(user.password), 429, 'too_many_attempts');
    const { samples } = await scrape(t);
    expect(valueOf(samples, 'twofold_logins_total', { outcome: 'failed' })).toBe(3);
    expect(valueOf(samples, 'twofold_logins_total', { outcome: 'throttled' })).toBe(1);
    expect(valueOf(samples, 'twofold_logins_total', { outcome: 'locked' })).toBe(1);
    expect(valueOf(samples, 'twofold_throttle_decisions_total', { scope: 'account', decision: 'delayed' })).toBe(1);
    expect(valueOf(samples, 'twofold_throttle_decisions_total', { scope: 'account', decision: 'locked' })).toBe(1);
    expect(valueOf(samples, 'twofold_security_events_total', { type: 'account.locked' })).toBe(1);
  });

  it('RC-02: every refused sign-in is counted, though its event is recorded once per window', async () => {
    const user = await signUp(t);
    const login = (password: string) => postJson(t.app, '/v1/login', { username: user.username, password });
    for (let i = 0; i < 3; i += 1) {
      expectProblem(await login('wrong password number two'), 401, 'invalid_credentials'); // locked at the 3rd
      t.clock.advanceSeconds(5); // past the wait the 2nd started
    }
    const before = valueOf((await scrape(t)).samples, 'twofold_logins_total', { outcome: 'locked' }) ?? 0;
    for (let i = 0; i < 20; i += 1) expectProblem(await login(user.password), 429, 'too_many_attempts');
    const { samples } = await scrape(t);
    expect(valueOf(samples, 'twofold_logins_total', { outcome: 'locked' })).toBe(before + 20);
    expect(t.events.filter((event) => event.type === 'login.throttled' && event.details?.['reason'] === 'locked').length).toBeLessThanOrEqual(2);
  });
});

describe('two Twofold instances in one process', () => {
  let a: TestTwofold;
  let b: TestTwofold;
  beforeAll(async () => {
    a = await startTestTwofold({ env: { TWOFOLD_METRICS: 'on' } });
    b = await startTestTwofold({ env: { TWOFOLD_METRICS_TOKEN: metricsToken } });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('each has its own registry: counts never leak from one to the other', async () => {
    expect(a.twofold.metrics?.registry).toBeDefined();
    expect(a.twofold.metrics?.registry).not.toBe(b.twofold.metrics?.registry);
    const user = await signUp(a);
    await signIn(a, user);
    const fromA = await scrape(a);
    const fromB = await scrape(b, bearer(metricsToken));
    expect(valueOf(fromA.samples, 'twofold_logins_total', { outcome: 'ok' })).toBe(1);
    expect(valueOf(fromB.samples, 'twofold_logins_total', { outcome: 'ok' })).toBe(0);
    expect(valueOf(fromB.samples, 'twofold_http_request_duration_seconds_count', { route: '/v1/login', status_class: '2xx' })).toBeUndefined();
    // Both still carry the process metrics, collected once.
    expect(fromA.samples.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(fromB.samples.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true);
  });
});

describe('GET /metrics: the in-memory store (RC-05)', () => {
  it('RC-05: reports keys held, kept until expiry and the bound, and counts evictions once however often it is scraped', async () => {
    // The in-memory store whatever the project's backend.
    const t = await startTestTwofold({ env: { TWOFOLD_REDIS_URL: '', TWOFOLD_METRICS: 'on', TWOFOLD_MEMORY_STORE_MAX_KEYS: '1000' } });
    try {
      const before = (await scrape(t)).samples;
      expect(valueOf(before, 'twofold_memory_store_evictions_total')).toBe(0);
      await t.ctx.kv.set('a lock', '1', 60_000, { keepUntilExpiry: true });
      for (let index = 0; index < 1_500; index += 1) await t.ctx.kv.increment(`made-up-${index}`, 60_000);
      const { keys, evicted } = (t.twofold.kv as MemoryStore).stats();
      expect(evicted).toBeGreaterThanOrEqual(500);
      for (let scrapes = 0; scrapes < 2; scrapes += 1) {
        const { samples } = await scrape(t);
        expect(valueOf(samples, 'twofold_memory_store_keys', { state: 'held' })).toBe(keys);
        expect(valueOf(samples, 'twofold_memory_store_keys', { state: 'kept_until_expiry' })).toBe(1);
        expect(valueOf(samples, 'twofold_memory_store_keys', { state: 'max' })).toBe(1_000);
        expect(valueOf(samples, 'twofold_memory_store_evictions_total')).toBe(evicted);
      }
    } finally {
      await t.close();
    }
  });
});
