// The Twilio provider against a fake Messages API on a free local port that
// checks the documented request: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic
// auth with AccountSid:AuthToken, a form-encoded To, From (or MessagingServiceSid) and Body; 201
// {sid: "SM…", status: "queued"} on success and Twilio's {code, message, status} on refusal.
// Then end to end through the HTTP API with TWOFOLD_SMS_PROVIDER=twilio.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError, type OutgoingMessage } from '../../src/delivery/message.js';
import { createTwilioSender, type TwilioOptions } from '../../src/delivery/twilio.js';
import { bearer, expectProblem, postJson, registerUser } from '../helpers/flow.js';
import { enrollDestination, requestCode, uniquePhone } from '../helpers/otp.js';
import { outboxMessages } from '../helpers/outbox.js';
import { codeIn, startFakeHttpServer, startFakeTwilio, unreachableUrl, type FakeHttpServer, type FakeTwilio } from '../helpers/providers.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const accountSid = `AC${'0123456789abcdef'.repeat(2)}`;
const authToken = 'twilio-auth-token-for-tests-0001';
const from = '+15005550006';
const messagingServiceSid = `MG${'fedcba9876543210'.repeat(2)}`;
/** Twilio's magic "invalid number" (error 21211). */
const invalidNumber = '+15005550001';

let twilio: FakeTwilio;
let hanging: FakeHttpServer;
beforeAll(async () => {
  [twilio, hanging] = await Promise.all([startFakeTwilio({ accountSid, authToken }), startFakeHttpServer(() => undefined)]);
  twilio.refused.add(invalidNumber);
});
afterAll(async () => {
  await Promise.all([twilio?.close(), hanging?.close()]);
});

function sender(options: Partial<TwilioOptions> = {}) {
  return createTwilioSender({ accountSid, authToken, from, messagingServiceSid: undefined, apiUrl: twilio.baseUrl, timeoutMs: 2000, firstPauseMs: 1, ...options });
}

function smsTo(to: string, code = '042042'): OutgoingMessage {
  return { channel: 'sms', to, text: `Your Twofold code to sign in is ${code}. It expires in 5 minutes. Never share it.`, purpose: 'login', expiresAt: Date.now() + 300_000 };
}

async function deliveryError(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

const requestsTo = (to: string) => twilio.requests.filter((request) => new URLSearchParams(request.body).get('To') === to);

describe('createTwilioSender()', () => {
  it('sends the documented request: POST …/Accounts/{sid}/Messages.json, Basic auth, form-encoded To, From, Body', async () => {
    const to = uniquePhone();
    await sender().send(smsTo(to));
    const [request] = requestsTo(to);
    expect(requestsTo(to)).toHaveLength(1);
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`);
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`);
    expect(request!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    const form = Object.fromEntries(new URLSearchParams(request!.body));
    expect(form).toEqual({ To: to, From: from, Body: smsTo(to).text });
    expect(twilio.messages.filter((message) => message.To === to)).toHaveLength(1);
  });

  it('with a Messaging Service, sends MessagingServiceSid instead of From', async () => {
    const to = uniquePhone();
    await sender({ from: undefined, messagingServiceSid }).send(smsTo(to));
    const form = Object.fromEntries(new URLSearchParams(requestsTo(to)[0]!.body));
    expect(form).toEqual({ To: to, MessagingServiceSid: messagingServiceSid, Body: smsTo(to).text });
  });

  it('a number Twilio refuses (400, error 21211): rejected at once, without repeating the number', async () => {
    const before = requestsTo(invalidNumber).length;
    const error = await deliveryError(sender({ tries: 3 }).send(smsTo(invalidNumber)));
    expect(error.kind).toBe('rejected');
    expect(error.message).toContain('21211');
    expect(error.message).not.toContain(invalidNumber);
    expect(requestsTo(invalidNumber).length - before).toBe(1);
  });

  it('wrong credentials (401, error 20003): rejected, not retried', async () => {
    const to = uniquePhone();
    const error = await deliveryError(sender({ authToken: 'not-the-token', tries: 3 }).send(smsTo(to)));
    expect(error.kind).toBe('rejected');
    expect(error.message).toContain('20003');
    expect(requestsTo(to)).toHaveLength(1);
  });

  it('a 500 is retried, and the message then goes out once', async () => {
    const to = uniquePhone();
    twilio.failing.set(to, 1);
    await sender({ tries: 3 }).send(smsTo(to));
    expect(requestsTo(to)).toHaveLength(2);
    expect(twilio.messages.filter((message) => message.To === to)).toHaveLength(1);
  });

  it('500 on every try: unavailable after the configured tries', async () => {
    const to = uniquePhone();
    twilio.failing.set(to, Number.POSITIVE_INFINITY);
    const error = await deliveryError(sender({ tries: 3 }).send(smsTo(to)));
    expect(error.kind).toBe('unavailable');
    expect(requestsTo(to)).toHaveLength(3);
    expect(twilio.messages.filter((message) => message.To === to)).toHaveLength(0);
  });

  it('an API that never answers: each try cut off by the timeout, then unavailable', async () => {
    const error = await deliveryError(sender({ apiUrl: hanging.baseUrl, timeoutMs: 200, tries: 2 }).send(smsTo(uniquePhone())));
    expect(error.kind).toBe('unavailable');
    expect(hanging.requests.length).toBeGreaterThanOrEqual(2);
  });

  it('nobody listening (connection refused): unavailable', async () => {
    const error = await deliveryError(sender({ apiUrl: await unreachableUrl(), tries: 2 }).send(smsTo(uniquePhone())));
    expect(error.kind).toBe('unavailable');
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: TWOFOLD_SMS_PROVIDER=twilio.

describe('through the HTTP API with TWOFOLD_SMS_PROVIDER=twilio', () => {
  let t: TestTwofold;
  let unreachable: TestTwofold;
  beforeAll(async () => {
    const env = {
      TWOFOLD_SMS_PROVIDER: 'twilio',
      TWOFOLD_TWILIO_ACCOUNT_SID: accountSid,
      TWOFOLD_TWILIO_AUTH_TOKEN: authToken,
      TWOFOLD_TWILIO_FROM: from,
      TWOFOLD_DELIVERY_TIMEOUT_MS: '2000',
    };
    [t, unreachable] = await Promise.all([
      startTestTwofold({ env: { ...env, TWOFOLD_TWILIO_API_URL: twilio.baseUrl } }),
      startTestTwofold({ env: { ...env, TWOFOLD_TWILIO_API_URL: await unreachableUrl() } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([t?.close(), unreachable?.close()]);
  });

  const bodiesTo = (phone: string) => twilio.messages.filter((message) => message.To === phone).map((message) => message.Body);
  const pendingFactorOf = (instance: TestTwofold, userId: string) =>
    instance.ctx.db.selectFrom('factors').select('id').where('user_id', '=', userId).where('type', '=', 'sms').where('status', '=', 'pending').executeTakeFirstOrThrow();
  const challengesOf = (instance: TestTwofold, factorId: string) => instance.ctx.db.selectFrom('challenges').selectAll().where('factor_id', '=', factorId).execute();

  it('enrolls a phone and signs in with the codes Twilio was asked to send', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    const enroll = await enrollDestination(t, user.mfaToken, { type: 'sms', phone });
    expect(enroll.statusCode, enroll.body).toBe(201);
    expect(twilio.messages.filter((message) => message.To === phone)).toEqual([{ To: phone, From: from, MessagingServiceSid: null, Body: expect.stringContaining('Twofold') }]);
    expect(await outboxMessages(t, phone)).toHaveLength(0);
    const confirm = await postJson(t.app, `/v1/factors/${enroll.json().factor_id}/verify`, { code: codeIn(bodiesTo(phone)[0]!) }, bearer(user.mfaToken));
    expect(confirm.statusCode, confirm.body).toBe(200);

    t.clock.advanceSeconds(31);
    const mfaToken = (await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json().mfa_token;
    const sent = await requestCode(t, mfaToken, enroll.json().factor_id);
    expect(sent.statusCode, sent.body).toBe(200);
    const verify = await postJson(t.app, '/v1/mfa/verify', { challenge_id: sent.json().challenge_id, code: codeIn(bodiesTo(phone)[1]!) }, bearer(mfaToken));
    expect(verify.statusCode, verify.body).toBe(200);
    expect(decodeJwt(verify.json().access_token)).toMatchObject({ amr: ['pwd', 'sms', 'mfa'], acr: 'aal2' });
  });

  it('a number Twilio refuses: 502 delivery_failed problem+json, and the challenge is retired', async () => {
    const user = await registerUser(t);
    const response = await enrollDestination(t, user.mfaToken, { type: 'sms', phone: invalidNumber });
    const problem = expectProblem(response, 502, 'delivery_failed');
    // The provider's answer stays in the logs: no provider name, status or error code for the caller.
    expect(String(problem['detail'])).not.toMatch(/twilio|21211|400/i);
    const factor = await pendingFactorOf(t, user.userId);
    const challenges = await challengesOf(t, factor.id);
    expect(challenges).toHaveLength(1);
    expect(challenges[0]!.superseded_at).not.toBeNull();
    expect(t.events.some((event) => event.type === 'challenge.delivery_failed' && event.factorId === factor.id && event.details?.['provider'] === 'twilio')).toBe(true);
  });

  it('Twilio failing (500 on every try): 503 server_busy with Retry-After; the code it was asked to send is useless', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    twilio.failing.set(phone, Number.POSITIVE_INFINITY);
    const response = await enrollDestination(t, user.mfaToken, { type: 'sms', phone });
    expectProblem(response, 503, 'server_busy');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    const attempted = requestsTo(phone).map((request) => codeIn(new URLSearchParams(request.body).get('Body')!));
    expect(attempted.length).toBeGreaterThan(1);
    const factor = await pendingFactorOf(t, user.userId);
    expectProblem(await postJson(t.app, `/v1/factors/${factor.id}/verify`, { code: attempted[0] }, bearer(user.mfaToken)), 401, 'invalid_code');

    twilio.failing.delete(phone);
    t.clock.advanceSeconds(31);
    expect((await requestCode(t, user.mfaToken, factor.id)).statusCode).toBe(200);
    expect((await postJson(t.app, `/v1/factors/${factor.id}/verify`, { code: codeIn(bodiesTo(phone)[0]!) }, bearer(user.mfaToken))).statusCode).toBe(200);
  });

  it('a Twilio API nobody listens on: 503 server_busy, and the challenge is retired', async () => {
    const user = await registerUser(unreachable);
    expectProblem(await enrollDestination(unreachable, user.mfaToken, { type: 'sms', phone: uniquePhone() }), 503, 'server_busy');
    const factor = await pendingFactorOf(unreachable, user.userId);
    expect((await challengesOf(unreachable, factor.id)).every((challenge) => challenge.superseded_at !== null)).toBe(true);
  });
});
