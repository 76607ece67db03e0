// The SMS webhook provider against a real HTTP receiver on a free local port:
// a JSON POST {to, text, purpose, expires_at} signed with
//   Twofold-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// (checked here with node:crypto, independently of Twofold), each try bounded by a timeout,
// retried with backoff on network errors, 408, 429 and 5xx, never on other 4xx. Then end to end
// through the HTTP API: codes reach the receiver, and a failed delivery is a clear 502/503 that
// leaves no usable code.
import type { ServerResponse } from 'node:http';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError, type OutgoingMessage } from '../../src/delivery/message.js';
import { createWebhookSender, signatureHeader } from '../../src/delivery/webhook.js';
import { bearer, expectProblem, postJson, registerUser } from '../helpers/flow.js';
import { enrollDestination, requestCode, uniquePhone } from '../helpers/otp.js';
import { outboxMessages } from '../helpers/outbox.js';
import { codeIn, isValidWebhookSignature, parseSignatureHeader, startFakeHttpServer, unreachableUrl, type FakeHttpServer, type ReceivedRequest } from '../helpers/providers.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const secret = 'webhook-secret-for-tests-0123456789';

// Per path, what the receiver answers: a list of statuses for successive requests (the last one
// repeats), or "hang" (never answers). Any request whose signature does not verify gets 401.
const scripts = new Map<string, Array<number | 'hang'>>();
const attempts = new Map<string, number>();
let receiver: FakeHttpServer;

/** E2E receiver behaviour per phone number. */
const refusedNumbers = new Set<string>();
const downNumbers = new Set<string>();
interface Sms {
  to: string;
  text: string;
  purpose: string;
  expires_at: string;
}
const delivered: Sms[] = [];

function answer(request: ReceivedRequest, response: ServerResponse): void {
  if (!isValidWebhookSignature(secret, request.headers[signatureHeader.toLowerCase()], request.body)) {
    response.writeHead(401).end();
    return;
  }
  const path = request.path;
  if (path === '/sms') {
    const sms = JSON.parse(request.body) as Sms;
    if (refusedNumbers.has(sms.to)) return void response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"unknown number"}');
    if (downNumbers.has(sms.to)) return void response.writeHead(503).end();
    delivered.push(sms);
    return void response.writeHead(202).end();
  }
  if (path === '/redirect') return void response.writeHead(302, { location: '/redirect-target' }).end();
  const script = scripts.get(path) ?? [200];
  const index = attempts.get(path) ?? 0;
  attempts.set(path, index + 1);
  const step = script[Math.min(index, script.length - 1)]!;
  if (step === 'hang') return; // never answers
  response.writeHead(step).end();
}

beforeAll(async () => {
  receiver = await startFakeHttpServer(answer);
});
afterAll(async () => {
  await receiver?.close();
});

let pathCounter = 0;
/** A fresh path on the receiver with a script of answers. */
function scripted(...steps: Array<number | 'hang'>): { url: string; path: string; requests: () => ReceivedRequest[] } {
  pathCounter += 1;
  const path = `/hook-${pathCounter}`;
  scripts.set(path, steps);
  return { url: `${receiver.baseUrl}${path}`, path, requests: () => receiver.requests.filter((request) => request.path === path) };
}

const expiresAt = Date.UTC(2026, 10, 29, 12, 5, 10);
const message: OutgoingMessage = {
  channel: 'sms',
  to: '+4915112345678',
  subject: 'Twofold code: 042042',
  text: 'Your Twofold code to sign in is 042042. It expires in 5 minutes. Never share it.\n\n@twofold.test #042042',
  purpose: 'login',
  expiresAt,
};

async function deliveryError(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

describe('createWebhookSender()', () => {
  it('POSTs JSON {to, text, purpose, expires_at} with a Twofold-Signature header the receiver verifies', async () => {
    const hook = scripted(204);
    await createWebhookSender({ url: hook.url, secret, timeoutMs: 2000 }).send(message);
    const [request] = hook.requests();
    expect(hook.requests()).toHaveLength(1);
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(request!.body) as Record<string, unknown>;
    expect(body).toEqual({ to: message.to, text: message.text, purpose: 'login', expires_at: '2026-11-29T12:05:10.000Z' });
    // The subject is for e-mail; the channel is implied by the URL.
    expect(request!.body).not.toContain('subject');

    const header = request!.headers['twofold-signature'];
    const parsed = parseSignatureHeader(header);
    expect(parsed, String(header)).toBeDefined();
    expect(Math.abs(parsed!.timestamp - Date.now() / 1000)).toBeLessThan(300);
    expect(isValidWebhookSignature(secret, header, request!.body)).toBe(true);
  });

  it('the signature binds the body and the secret: another body, timestamp or secret does not verify', async () => {
    const hook = scripted(200);
    await createWebhookSender({ url: hook.url, secret, timeoutMs: 2000 }).send(message);
    const request = hook.requests()[0]!;
    const header = String(request.headers['twofold-signature']);
    const parsed = parseSignatureHeader(header)!;
    expect(isValidWebhookSignature(secret, header, request.body.replace('042042', '042043'))).toBe(false);
    expect(isValidWebhookSignature('another-secret-0123456789abcdef', header, request.body)).toBe(false);
    expect(isValidWebhookSignature(secret, `t=${parsed.timestamp + 1},v1=${parsed.signature}`, request.body)).toBe(false);
  });

  it('a receiver holding another secret refuses the message (401): rejected, not retried', async () => {
    const hook = scripted(200);
    const error = await deliveryError(createWebhookSender({ url: hook.url, secret: 'not-the-receivers-secret-000000', timeoutMs: 2000, firstPauseMs: 1 }).send(message));
    expect(error.kind).toBe('rejected');
    expect(hook.requests()).toHaveLength(1);
  });

  it('retries with backoff after 500 and 503, then succeeds — each try signed, the same message', async () => {
    const hook = scripted(500, 503, 200);
    await createWebhookSender({ url: hook.url, secret, timeoutMs: 2000, tries: 3, firstPauseMs: 10 }).send(message);
    const requests = hook.requests();
    expect(requests).toHaveLength(3);
    for (const request of requests) {
      expect(isValidWebhookSignature(secret, request.headers['twofold-signature'], request.body)).toBe(true);
      expect(JSON.parse(request.body)).toEqual(JSON.parse(requests[0]!.body));
    }
  });

  it.each([408, 429, 502, 504])('retries after %i', async (status) => {
    const hook = scripted(status, 200);
    await createWebhookSender({ url: hook.url, secret, timeoutMs: 2000, tries: 3, firstPauseMs: 1 }).send(message);
    expect(hook.requests()).toHaveLength(2);
  });

  it('gives up after the configured number of tries: unavailable', async () => {
    const hook = scripted(503);
    const error = await deliveryError(createWebhookSender({ url: hook.url, secret, timeoutMs: 2000, tries: 3, firstPauseMs: 1 }).send(message));
    expect(error.kind).toBe('unavailable');
    expect(hook.requests()).toHaveLength(3);
  });

  it.each([400, 403, 404, 410, 422])('no retry after %i: rejected', async (status) => {
    const hook = scripted(status, 200);
    const error = await deliveryError(createWebhookSender({ url: hook.url, secret, timeoutMs: 2000, tries: 3, firstPauseMs: 1 }).send(message));
    expect(error.kind).toBe('rejected');
    expect(hook.requests()).toHaveLength(1);
  });

  it('a receiver that never answers: each try is cut off by the timeout, then unavailable', async () => {
    const hook = scripted('hang');
    const error = await deliveryError(createWebhookSender({ url: hook.url, secret, timeoutMs: 200, tries: 2, firstPauseMs: 1 }).send(message));
    expect(error.kind).toBe('unavailable');
    expect(hook.requests()).toHaveLength(2);
  });

  it('a receiver that answers after a hang is retried and succeeds', async () => {
    const hook = scripted('hang', 200);
    await createWebhookSender({ url: hook.url, secret, timeoutMs: 200, tries: 2, firstPauseMs: 1 }).send(message);
    expect(hook.requests()).toHaveLength(2);
  });

  it('nobody listening (connection refused): unavailable', async () => {
    const error = await deliveryError(createWebhookSender({ url: await unreachableUrl('/sms'), secret, timeoutMs: 1000, tries: 2, firstPauseMs: 1 }).send(message));
    expect(error.kind).toBe('unavailable');
  });

  it('does not follow redirects: the message never reaches another URL', async () => {
    await deliveryError(createWebhookSender({ url: `${receiver.baseUrl}/redirect`, secret, timeoutMs: 1000, tries: 1 }).send(message));
    expect(receiver.requests.filter((request) => request.path === '/redirect-target')).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: TWOFOLD_SMS_PROVIDER=webhook.

describe('through the HTTP API with TWOFOLD_SMS_PROVIDER=webhook', () => {
  let t: TestTwofold;
  let unreachable: TestTwofold;
  beforeAll(async () => {
    const env = { TWOFOLD_SMS_PROVIDER: 'webhook', TWOFOLD_SMS_WEBHOOK_SECRET: secret, TWOFOLD_DELIVERY_TIMEOUT_MS: '2000' };
    [t, unreachable] = await Promise.all([
      startTestTwofold({ env: { ...env, TWOFOLD_SMS_WEBHOOK_URL: `${receiver.baseUrl}/sms` } }),
      startTestTwofold({ env: { ...env, TWOFOLD_SMS_WEBHOOK_URL: await unreachableUrl('/sms') } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([t?.close(), unreachable?.close()]);
  });

  const smsTo = (phone: string) => delivered.filter((sms) => sms.to === phone);
  const requestsFor = (phone: string) => receiver.requests.filter((request) => request.path === '/sms' && (JSON.parse(request.body) as Sms).to === phone);
  const pendingFactorOf = async (instance: TestTwofold, userId: string) =>
    instance.ctx.db.selectFrom('factors').select('id').where('user_id', '=', userId).where('type', '=', 'sms').where('status', '=', 'pending').executeTakeFirstOrThrow();
  const challengesOf = (instance: TestTwofold, factorId: string) => instance.ctx.db.selectFrom('challenges').selectAll().where('factor_id', '=', factorId).execute();

  it('enrolls a phone and signs in with the codes the receiver got (signed, {to, text, purpose, expires_at})', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    const enroll = await enrollDestination(t, user.mfaToken, { type: 'sms', phone });
    expect(enroll.statusCode, enroll.body).toBe(201);
    const [enrollSms] = smsTo(phone);
    expect(smsTo(phone)).toHaveLength(1);
    expect(enrollSms).toMatchObject({ to: phone, purpose: 'enroll', expires_at: new Date(t.clock.now() + 300_000).toISOString() });
    expect(enrollSms!.text).toContain('Twofold');
    const [request] = requestsFor(phone);
    expect(isValidWebhookSignature(secret, request!.headers['twofold-signature'], request!.body)).toBe(true);
    expect(enroll.body).not.toContain(codeIn(enrollSms!.text));
    // The outbox is not used when a provider is configured.
    expect(await outboxMessages(t, phone)).toHaveLength(0);

    const confirm = await postJson(t.app, `/v1/factors/${enroll.json().factor_id}/verify`, { code: codeIn(enrollSms!.text) }, bearer(user.mfaToken));
    expect(confirm.statusCode, confirm.body).toBe(200);

    t.clock.advanceSeconds(31);
    const mfaToken = (await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json().mfa_token;
    const sent = await requestCode(t, mfaToken, enroll.json().factor_id);
    expect(sent.statusCode, sent.body).toBe(200);
    const loginSms = smsTo(phone)[1]!;
    expect(loginSms.purpose).toBe('login');
    const verify = await postJson(t.app, '/v1/mfa/verify', { challenge_id: sent.json().challenge_id, code: codeIn(loginSms.text) }, bearer(mfaToken));
    expect(verify.statusCode, verify.body).toBe(200);
    expect(decodeJwt(verify.json().access_token).amr).toEqual(['pwd', 'sms', 'mfa']);
  });

  it('a receiver that refuses the number: 502 delivery_failed problem+json; the code it saw is useless; a resend once it accepts works', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    refusedNumbers.add(phone);
    const response = await enrollDestination(t, user.mfaToken, { type: 'sms', phone });
    expectProblem(response, 502, 'delivery_failed');
    expect(requestsFor(phone)).toHaveLength(1); // 400 is final: no retry
    const seenCode = codeIn((JSON.parse(requestsFor(phone)[0]!.body) as Sms).text);
    expect(response.body).not.toContain(seenCode);

    const factor = await pendingFactorOf(t, user.userId);
    const challenges = await challengesOf(t, factor.id);
    expect(challenges).toHaveLength(1);
    expect(challenges[0]!.superseded_at).not.toBeNull();
    expectProblem(await postJson(t.app, `/v1/factors/${factor.id}/verify`, { code: seenCode }, bearer(user.mfaToken)), 401, 'invalid_code');
    expectProblem(await postJson(t.app, `/v1/factors/${factor.id}/verify`, { code: seenCode, challenge_id: challenges[0]!.id }, bearer(user.mfaToken)), 401, 'invalid_code');
    expect(t.events.some((event) => event.type === 'challenge.delivery_failed' && event.factorId === factor.id && event.details?.['provider'] === 'webhook')).toBe(true);

    refusedNumbers.delete(phone);
    t.clock.advanceSeconds(31);
    const resent = await requestCode(t, user.mfaToken, factor.id);
    expect(resent.statusCode, resent.body).toBe(200);
    const confirm = await postJson(t.app, `/v1/factors/${factor.id}/verify`, { code: codeIn(smsTo(phone)[0]!.text) }, bearer(user.mfaToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
  });

  it('a receiver that is down (503 on every try): 503 server_busy with Retry-After, after retries; no usable code', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    downNumbers.add(phone);
    const response = await enrollDestination(t, user.mfaToken, { type: 'sms', phone });
    expectProblem(response, 503, 'server_busy');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(requestsFor(phone).length).toBeGreaterThan(1);
    const codes = new Set(requestsFor(phone).map((request) => codeIn((JSON.parse(request.body) as Sms).text)));
    expect(codes.size).toBe(1); // the retries carried the same code
    const factor = await pendingFactorOf(t, user.userId);
    expect((await challengesOf(t, factor.id)).every((challenge) => challenge.superseded_at !== null)).toBe(true);
    expectProblem(await postJson(t.app, `/v1/factors/${factor.id}/verify`, { code: [...codes][0] }, bearer(user.mfaToken)), 401, 'invalid_code');
  });

  it('a refused login code: 502, and the mfa_token can still ask again and sign in', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    const enroll = (await enrollDestination(t, user.mfaToken, { type: 'sms', phone })).json();
    expect((await postJson(t.app, `/v1/factors/${enroll.factor_id}/verify`, { code: codeIn(smsTo(phone)[0]!.text) }, bearer(user.mfaToken))).statusCode).toBe(200);
    t.clock.advanceSeconds(31);
    const mfaToken = (await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json().mfa_token;
    refusedNumbers.add(phone);
    expectProblem(await requestCode(t, mfaToken, enroll.factor_id), 502, 'delivery_failed');
    refusedNumbers.delete(phone);
    t.clock.advanceSeconds(31);
    const sent = await requestCode(t, mfaToken, enroll.factor_id);
    expect(sent.statusCode, sent.body).toBe(200);
    const verify = await postJson(t.app, '/v1/mfa/verify', { challenge_id: sent.json().challenge_id, code: codeIn(smsTo(phone).at(-1)!.text) }, bearer(mfaToken));
    expect(verify.statusCode, verify.body).toBe(200);
  });

  it('a webhook URL nobody listens on: 503 server_busy, and the challenge is retired', async () => {
    const user = await registerUser(unreachable);
    const response = await enrollDestination(unreachable, user.mfaToken, { type: 'sms', phone: uniquePhone() });
    expectProblem(response, 503, 'server_busy');
    const factor = await pendingFactorOf(unreachable, user.userId);
    const challenges = await challengesOf(unreachable, factor.id);
    expect(challenges).toHaveLength(1);
    expect(challenges[0]!.superseded_at).not.toBeNull();
  });
});
