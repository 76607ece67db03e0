// RC-02: sends cost money. New accounts are free, so budgets per destination and per account alone
// let one client send 120 SMS to 120 numbers in a second (SMS pumping) or mail a
// victim from 40 throw-away accounts. Every send now also takes its client network's budget (IPv6
// per /64) and everyone's budget per hour, atomically before the code exists; a refusal is a 429
// with Retry-After, counted by twofold_send_budget_refusals_total{channel, scope} and recorded as
// one `send_budget.exhausted` event per budget window.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, postJson, strongPassword, uniqueUsername } from '../helpers/flow.js';
import { smsSignUp } from '../helpers/otp.js';
import { outboxMessages } from '../helpers/outbox.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

function inject(t: TestTwofold, ip: string, url: string, payload: object, token?: string): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url, payload, remoteAddress: ip, headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) } });
}

/** A free account, as a pumping script makes them: its mfa_token may enroll a first factor. */
async function freeAccount(t: TestTwofold, ip: string): Promise<string> {
  const response = await inject(t, ip, '/v1/register', { username: uniqueUsername('pump'), password: strongPassword });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().mfa_token as string;
}

let phoneCounter = 0;
/** A fresh number per send: the per-destination budget never decides these tests. */
function premiumNumber(): string {
  phoneCounter += 1;
  return `+88213${String(process.pid % 10000).padStart(4, '0')}${String(phoneCounter).padStart(4, '0')}`;
}

async function smsSentTo(t: TestTwofold, phones: string[]): Promise<number> {
  let sent = 0;
  for (const phone of phones) sent += (await outboxMessages(t, phone)).filter((message) => message.channel === 'sms').length;
  return sent;
}

async function metric(t: TestTwofold, name: string, labels: Record<string, string>): Promise<number> {
  const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
  const selector = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',');
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`)));
  expect(line, `${name}{${selector}}`).toBeDefined();
  return Number(line!.split(' ').at(-1));
}

const exhausted = (t: TestTwofold, scope: string, channel = 'sms') => t.events.filter((event) => event.type === 'send_budget.exhausted' && event.details?.['scope'] === scope && event.details['channel'] === channel);

function expectRefusedSend(response: LightMyRequestResponse): void {
  const body = expectProblem(response, 429, 'too_many_attempts');
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(3600);
  expect(body['retry_after']).toBe(retryAfter);
}

describe('RC-02: SMS pumping from one client', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_METRICS: 'on', TWOFOLD_SMS_SENDS_PER_CLIENT: '10', TWOFOLD_SMS_SENDS_PER_HOUR: '100000' } });
  });
  afterAll(async () => t.close());

  it('RC-02: 120 numbers from one client, each from a new free account — capped at the client budget (10), the rest 429 and no message sent; the event once, the metric per refusal', async () => {
    const ip = '203.0.113.7';
    const phones = Array.from({ length: 120 }, premiumNumber);
    const statuses: number[] = [];
    for (const phone of phones) {
      const response = await inject(t, ip, '/v1/factors', { type: 'sms', phone }, await freeAccount(t, ip));
      statuses.push(response.statusCode);
      if (response.statusCode !== 201) expectRefusedSend(response);
    }
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(110);
    expect(await smsSentTo(t, phones)).toBe(10);
    // A refused send created no code (nothing to guess at) and no pending factor.
    expect(Number((await t.ctx.db.selectFrom('challenges').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow()).count)).toBe(10);
    expect(Number((await t.ctx.db.selectFrom('factors').select((eb) => eb.fn.countAll<number>().as('count')).where('type', '=', 'sms').executeTakeFirstOrThrow()).count)).toBe(10);
    expect(exhausted(t, 'client')).toHaveLength(1);
    expect(exhausted(t, 'client')[0]).toMatchObject({ ip, details: { channel: 'sms', scope: 'client' } });
    expect(await metric(t, 'twofold_send_budget_refusals_total', { channel: 'sms', scope: 'client' })).toBe(110);
    expect(await metric(t, 'twofold_send_budget_refusals_total', { channel: 'sms', scope: 'global' })).toBe(0);

    // Another client is not affected; this one gets its budget back in the next window — and the
    // event is recorded again only when that window is spent too.
    expect((await inject(t, '198.51.100.20', '/v1/factors', { type: 'sms', phone: premiumNumber() }, await freeAccount(t, '198.51.100.20'))).statusCode).toBe(201);
    t.clock.advanceSeconds(3601);
    for (let i = 0; i < 10; i += 1) expect((await inject(t, ip, '/v1/factors', { type: 'sms', phone: premiumNumber() }, await freeAccount(t, ip))).statusCode).toBe(201);
    expectRefusedSend(await inject(t, ip, '/v1/factors', { type: 'sms', phone: premiumNumber() }, await freeAccount(t, ip)));
    expect(exhausted(t, 'client')).toHaveLength(2);
  });

  it('RC-02: the same from 120 addresses of one IPv6 /64 — one client, one budget; IPv4-mapped addresses are their IPv4 client', async () => {
    const phones = Array.from({ length: 120 }, premiumNumber);
    const statuses: number[] = [];
    for (const [index, phone] of phones.entries()) {
      const ip = `2001:db8:7:9:${(index + 1).toString(16)}:${((index * 7919) % 0xffff).toString(16)}::1`;
      statuses.push((await inject(t, ip, '/v1/factors', { type: 'sms', phone }, await freeAccount(t, ip))).statusCode);
    }
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(await smsSentTo(t, phones)).toBe(10);

    const mapped = Array.from({ length: 12 }, premiumNumber);
    const mappedStatuses: number[] = [];
    for (const [index, phone] of mapped.entries()) {
      const ip = index % 2 === 0 ? '192.0.2.55' : '::ffff:192.0.2.55';
      mappedStatuses.push((await inject(t, ip, '/v1/factors', { type: 'sms', phone }, await freeAccount(t, ip))).statusCode);
    }
    expect(mappedStatuses.filter((status) => status === 201)).toHaveLength(10);
    expect(await smsSentTo(t, mapped)).toBe(10);
  });
});

describe('RC-02: everyone’s budget per hour', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_METRICS: 'on', TWOFOLD_SMS_SENDS_PER_CLIENT: '3', TWOFOLD_SMS_SENDS_PER_HOUR: '15' } });
  });
  afterAll(async () => t.close());

  it('RC-02: the global hourly budget caps many clients (40 networks, 2 sends each → 15 sent); a client over its own budget spends none of it', async () => {
    // One client spends its own budget and is refused on it: that refusal costs the global budget nothing.
    const greedy = '198.51.100.99';
    for (let i = 0; i < 3; i += 1) expect((await inject(t, greedy, '/v1/factors', { type: 'sms', phone: premiumNumber() }, await freeAccount(t, greedy))).statusCode).toBe(201);
    for (let i = 0; i < 5; i += 1) expectRefusedSend(await inject(t, greedy, '/v1/factors', { type: 'sms', phone: premiumNumber() }, await freeAccount(t, greedy)));

    const phones: string[] = [];
    const statuses: number[] = [];
    for (let client = 0; client < 40; client += 1) {
      const ip = `192.0.2.${client + 1}`;
      for (let send = 0; send < 2; send += 1) {
        const phone = premiumNumber();
        phones.push(phone);
        const response = await inject(t, ip, '/v1/factors', { type: 'sms', phone }, await freeAccount(t, ip));
        statuses.push(response.statusCode);
        if (response.statusCode !== 201) expectRefusedSend(response);
      }
    }
    expect(statuses.filter((status) => status === 201)).toHaveLength(12);
    expect(await smsSentTo(t, phones)).toBe(12);
    expect(exhausted(t, 'global')).toHaveLength(1);
    expect(exhausted(t, 'global')[0]!.details).toMatchObject({ channel: 'sms', scope: 'global' });
    expect(await metric(t, 'twofold_send_budget_refusals_total', { channel: 'sms', scope: 'global' })).toBe(68);
    expect(await metric(t, 'twofold_send_budget_refusals_total', { channel: 'sms', scope: 'client' })).toBe(5);
    // The security event reached the audit trail, once.
    await t.ctx.auditTrail.flush();
    const rows = await t.ctx.db.selectFrom('security_events').select('details').where('type', '=', 'send_budget.exhausted').execute();
    expect(rows.filter((row) => JSON.parse(row.details ?? '{}').scope === 'global')).toHaveLength(1);
  });
});

describe('RC-02: 1,000 concurrent sends from one client', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({
      env: { TWOFOLD_SMS_SENDS_PER_CLIENT: '25', TWOFOLD_OTP_SENDS_PER_DESTINATION: '1000', TWOFOLD_OTP_SENDS_PER_ACCOUNT: '1000', TWOFOLD_OTP_RESEND_INTERVAL_SECONDS: '0' },
    });
  });
  afterAll(async () => t.close());

  it('RC-02: 1,000 code requests at once (sign-in challenges of one SMS factor) — exactly the client budget (25) is sent, every other answer a 429', async () => {
    // Set up from another address, so the racing client starts with its whole budget.
    const user = await smsSignUp(t);
    const login = await postJson(t.app, '/v1/login', { username: user.username, password: user.password });
    const ip = '203.0.113.200';
    const before = (await outboxMessages(t, user.destination)).length;
    const responses = await Promise.all(Array.from({ length: 1000 }, () => inject(t, ip, '/v1/mfa/challenge', { factor_id: user.otpFactorId }, login.json().mfa_token)));
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 200)).toHaveLength(25);
    expect(statuses.filter((status) => status === 429)).toHaveLength(975);
    expect((await outboxMessages(t, user.destination)).length - before).toBe(25);
    expect(exhausted(t, 'client')).toHaveLength(1);
  });

  it('RC-02: enrollments raced on one account answer 201 or 429 or 404 (replaced meanwhile) — never a 500 — and send at most the budget', async () => {
    const ip = '203.0.113.201';
    const mfaToken = await freeAccount(t, ip);
    const phones = Array.from({ length: 200 }, premiumNumber);
    const responses = await Promise.all(phones.map((phone) => inject(t, ip, '/v1/factors', { type: 'sms', phone }, mfaToken)));
    for (const response of responses) expect([201, 404, 429], response.body).toContain(response.statusCode);
    expect(responses.filter((response) => response.statusCode === 429)).toHaveLength(175);
    expect(await smsSentTo(t, phones)).toBeLessThanOrEqual(25);
  });
});

describe('RC-02: e-mail sends from one client', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_EMAIL_SENDS_PER_CLIENT: '4', TWOFOLD_FACTORS: 'totp,sms,email,webauthn,recovery' } });
  });
  afterAll(async () => t.close());

  it('RC-02: verification mails at sign-up spend the client’s e-mail budget: 12 sign-ups with 12 addresses from one network → 4 mails; the sign-ups themselves succeed', async () => {
    const ip = '203.0.113.77';
    const addresses = Array.from({ length: 12 }, () => `${uniqueUsername('bomb')}@example.com`);
    for (const email of addresses) expect((await inject(t, ip, '/v1/register', { username: uniqueUsername('bomber'), password: strongPassword, email })).statusCode).toBe(201);
    await t.ctx.background.flush();
    let mailed = 0;
    for (const email of addresses) mailed += (await outboxMessages(t, email)).length;
    expect(mailed).toBe(4);
    expect(exhausted(t, 'client', 'email')).toHaveLength(1);
  });
});
