// SMS codes through the HTTP API (OB-01..OB-04, FL-05, FL-07,
// FL-09, LOG-01): a phone as the first factor, at login and for step-up; codes of six digits that
// live five minutes, work once, only for the challenge and the sign-in they were sent for, five
// tries per challenge (each also counted against the account); a resend kills the previous code;
// sends are throttled per phone and per account; codes never reach a response or the log.
//
// Codes are read from the development outbox, as a person would read their phone. Every test uses
// its own phone numbers: the send throttles are per destination and live in the shared store.
import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashOtpCode } from '../../src/core/otp/codes.js';
import { createLogger } from '../../src/http/logger.js';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, registerUser, signUp, strongPassword, totpCode, uniqueUsername } from '../helpers/flow.js';
import { containsCode, enrollDestination, requestCode, smsSignUp, startOtpLogin, uniquePhone, wrongCode } from '../helpers/otp.js';
import { lastSentCode, outboxMessages } from '../helpers/outbox.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

/** The defaults: a 30 s resend interval, 5 sends per phone per 15 min, 10 per account per hour, 5 tries per mfa_token. */
let t: TestTwofold;
/** For tests that resend and retry a lot on purpose: no resend interval, generous send counts, 10 tries per mfa_token (so the challenge's own limit of 5 shows). */
let quick: TestTwofold;
/** The default send counts without the resend interval: for the per-phone and per-account throttles. */
let counting: TestTwofold;

beforeAll(async () => {
  [t, quick, counting] = await Promise.all([
    startTestTwofold(),
    startTestTwofold({
      env: {
        TWOFOLD_OTP_RESEND_INTERVAL_SECONDS: '0',
        TWOFOLD_OTP_SENDS_PER_DESTINATION: '1000',
        TWOFOLD_OTP_SENDS_PER_ACCOUNT: '1000',
        TWOFOLD_MFA_MAX_ATTEMPTS: '10',
      },
    }),
    startTestTwofold({ env: { TWOFOLD_OTP_RESEND_INTERVAL_SECONDS: '0' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([t?.close(), quick?.close(), counting?.close()]);
});

/** What the API shows of a phone: "+", bullets, and the last two digits. */
function expectedMask(phone: string): string {
  return `+${'•'.repeat(phone.length - 3)}${phone.slice(-2)}`;
}

const verify = (app: TestTwofold, token: string, body: Record<string, unknown>) => postJson(app.app, '/v1/mfa/verify', body, bearer(token));

async function failedAttempts(app: TestTwofold, userId: string): Promise<number> {
  const row = await app.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', userId).executeTakeFirstOrThrow();
  return Number(row.failed_attempts);
}

function expectTooManySends(response: LightMyRequestResponse, maxSeconds: number): number {
  const body = expectProblem(response, 429, 'too_many_attempts');
  const retryAfter = Number(response.headers['retry-after']);
  expect(Number.isInteger(retryAfter), `Retry-After: ${String(response.headers['retry-after'])}`).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  expect(body['retry_after']).toBe(retryAfter);
  return retryAfter;
}

describe('SMS as the first factor (sign-up)', () => {
  it('POST /v1/factors {type: "sms"} with the registration mfa_token: 201, masked destination, one code sent to that phone', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    const response = await enrollDestination(t, user.mfaToken, { type: 'sms', phone });
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json();
    expect(Object.keys(body).filter((key) => key !== 'notice').sort()).toEqual(['challenge_id', 'destination', 'expires_in', 'factor_id', 'label', 'status', 'type']);
    expect(body).toMatchObject({ type: 'sms', status: 'pending', label: null, expires_in: 300, destination: expectedMask(phone) });
    // OB-04: SMS is a restricted authenticator; if the enrollment says so, it is in words, not secrets.
    if (body.notice !== undefined) expect(typeof body.notice).toBe('string');
    expect(response.body).not.toContain(phone.slice(1, -2));

    const messages = await outboxMessages(t, phone);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message).toMatchObject({ channel: 'sms', destination: phone, purpose: 'enroll', expires_at: t.clock.now() + 300_000 });
    const code = await lastSentCode(t, phone);
    expect(code).toMatch(/^[0-9]{6}$/);

    // OB-01: stored only as an HMAC bound to this challenge.
    const row = await t.ctx.db.selectFrom('challenges').selectAll().where('id', '=', body.challenge_id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ factor_id: body.factor_id, kind: 'otp', purpose: 'enroll', used_at: null, superseded_at: null });
    expect(row.secret).not.toContain(code);
    expect(row.secret).toBe(hashOtpCode(code, body.challenge_id, t.ctx.codePepper));
  });

  it('confirming the code completes the first sign-in: tokens (amr pwd sms mfa, aal2), recovery codes, an active SMS factor', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    const enrollment = (await enrollDestination(t, user.mfaToken, { type: 'sms', phone, label: 'My phone' })).json();
    const code = await lastSentCode(t, phone);
    const response = await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code, challenge_id: enrollment.challenge_id }, bearer(user.mfaToken));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'factor', 'recovery_codes', 'refresh_token', 'token_type']);
    expect(body.factor).toMatchObject({ id: enrollment.factor_id, type: 'sms', label: 'My phone', status: 'active', destination: expectedMask(phone) });
    expect(body.recovery_codes).toHaveLength(10);
    expect(decodeJwt(body.access_token)).toMatchObject({ sub: user.userId, acr: 'aal2', amr: ['pwd', 'sms', 'mfa'] });
    expect((await getJson(t.app, '/v1/me', bearer(body.access_token))).statusCode).toBe(200);
    const factors = (await getJson(t.app, '/v1/factors', bearer(body.access_token))).json().factors;
    expect(factors.filter((factor: { status: string }) => factor.status === 'active')).toEqual([expect.objectContaining({ id: enrollment.factor_id, type: 'sms' })]);
    expect(t.events.some((event) => event.type === 'factor.activated' && event.factorId === enrollment.factor_id)).toBe(true);
  });

  it('without challenge_id the confirmation answers the open challenge of this sign-in', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    const enrollment = (await enrollDestination(t, user.mfaToken, { type: 'sms', phone })).json();
    const response = await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: await lastSentCode(t, phone) }, bearer(user.mfaToken));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().factor.status).toBe('active');
  });

  it('a wrong confirmation code is 401 invalid_code and the factor stays pending', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    const enrollment = (await enrollDestination(t, user.mfaToken, { type: 'sms', phone })).json();
    const code = await lastSentCode(t, phone);
    const body = expectProblem(await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: wrongCode(code) }, bearer(user.mfaToken)), 401, 'invalid_code');
    expect(body['attempts_remaining']).toBe(4);
    const row = await t.ctx.db.selectFrom('factors').select('status').where('id', '=', enrollment.factor_id).executeTakeFirstOrThrow();
    expect(row.status).toBe('pending');
    expect((await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code }, bearer(user.mfaToken))).statusCode).toBe(200);
  });

  it('accepts the usual ways of writing an international number and sends to its E.164 form', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone(); // +4915ddddddddd
    const written = `${phone.slice(0, 3)} (${phone.slice(3, 6)}) ${phone.slice(6, 10)}-${phone.slice(10)}`;
    const response = await enrollDestination(t, user.mfaToken, { type: 'sms', phone: written });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json().destination).toBe(expectedMask(phone));
    expect(await outboxMessages(t, phone)).toHaveLength(1);
    const row = await t.ctx.db.selectFrom('factors').select('destination').where('id', '=', response.json().factor_id).executeTakeFirstOrThrow();
    expect(row.destination).toBe(phone);
  });

  const invalidPhones: Array<[string, unknown]> = [
    ['empty', ''],
    ['no country code (no "+")', '4915112345678'],
    ['a national number with a leading 0', '015112345678'],
    ['"00" instead of "+"', '004915112345678'],
    ['country code 0', '+04915112345678'],
    ['too short (6 digits)', '+491511'],
    ['too long (16 digits)', '+4915112345678901'],
    ['letters', '+49151ABCDEFGH'],
    ['a vanity number', '+1800FLOWERS'],
    ['Arabic-Indic digits', '+٤٩١٥١١٢٣٤٥٦٧٨'],
    ['two numbers', '+4915112345678,+4915187654321'],
    ['an extension', '+4915112345678;ext=12'],
    ['a tel: URI', 'tel:+4915112345678'],
    ['only a plus', '+'],
    ['longer than any phone number', `+49${'1'.repeat(40)}`],
    ['a number (not a string)', 4915112345678],
    ['null', null],
    ['an array', ['+4915112345678']],
  ];
  it.each(invalidPhones)('an invalid phone (%s) is 400 invalid_request pointing at #/phone, and nothing is sent', async (_name, phone) => {
    const user = await registerUser(t);
    const response = await postJson(t.app, '/v1/factors', { type: 'sms', phone }, bearer(user.mfaToken));
    const body = expectProblem(response, 400, 'invalid_request');
    expect(body['errors']).toEqual([expect.objectContaining({ pointer: '#/phone' })]);
    const sent = await t.ctx.db.selectFrom('challenges').select('id').where('user_id', '=', user.userId).execute();
    expect(sent).toEqual([]);
  });

  it('a missing phone is 400 invalid_request pointing at #/phone', async () => {
    const user = await registerUser(t);
    const body = expectProblem(await postJson(t.app, '/v1/factors', { type: 'sms' }, bearer(user.mfaToken)), 400, 'invalid_request');
    expect(body['errors']).toEqual([expect.objectContaining({ pointer: '#/phone' })]);
  });
});

describe('SMS at login (point 7: login tells the client what it can use)', () => {
  it('the login lists the SMS factor with the masked phone; the challenge sends a code; verify gives tokens with amr sms', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(31);
    const loginResponse = await postJson(t.app, '/v1/login', { username: user.username, password: user.password });
    expect(loginResponse.statusCode).toBe(200);
    const login = loginResponse.json();
    expect(login.next).toBe('verify');
    expect(login.factors).toEqual([{ id: user.otpFactorId, type: 'sms', label: null, destination: expectedMask(user.destination) }]);
    expect(loginResponse.body).not.toContain(user.destination.slice(1, -2));

    const sent = await requestCode(t, login.mfa_token, user.otpFactorId);
    expect(sent.statusCode, sent.body).toBe(200);
    expect(Object.keys(sent.json()).sort()).toEqual(['challenge_id', 'destination', 'expires_in']);
    expect(sent.json()).toMatchObject({ expires_in: 300, destination: expectedMask(user.destination) });
    const [message] = await outboxMessages(t, user.destination);
    expect(message).toMatchObject({ channel: 'sms', purpose: 'login' });

    const code = await lastSentCode(t, user.destination);
    const response = await verify(t, login.mfa_token, { factor_id: user.otpFactorId, challenge_id: sent.json().challenge_id, code });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(Object.keys(response.json()).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    const claims = decodeJwt(response.json().access_token);
    expect(claims).toMatchObject({ sub: user.userId, acr: 'aal2', amr: ['pwd', 'sms', 'mfa'], auth_time: Math.floor(t.clock.now() / 1000) });
    expect(t.events.some((event) => event.type === 'challenge.sent' && event.userId === user.userId && event.details?.['purpose'] === 'login')).toBe(true);
  });

  it('factor_id is optional at verify (the challenge names its factor)', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(31);
    const login = await startOtpLogin(t, user, user.otpFactorId, user.destination);
    expect((await verify(t, login.mfaToken, { challenge_id: login.challengeId, code: login.code })).statusCode).toBe(200);
  });

  it('a labelled phone and an app are both offered, each with what identifies it', async () => {
    const user = await signUp(t);
    const phone = uniquePhone();
    const enrollment = (await postJson(t.app, '/v1/factors', { type: 'sms', phone, label: 'Work phone' }, bearer(user.accessToken))).json();
    const confirm = await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: await lastSentCode(t, phone) }, bearer(user.accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(Object.keys(confirm.json())).toEqual(['factor']);
    const login = (await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json();
    expect(login.factors).toEqual(
      expect.arrayContaining([
        { id: user.factorId, type: 'totp', label: null, destination: null },
        { id: enrollment.factor_id, type: 'sms', label: 'Work phone', destination: expectedMask(phone) },
      ]),
    );
    expect(login.factors).toHaveLength(2);
  });

  it('a challenge for a factor of someone else is 404 and sends nothing', async () => {
    const victim = await smsSignUp(t);
    const attacker = await smsSignUp(t);
    t.clock.advanceSeconds(31);
    const mfaToken = await loginForMfaToken(t, attacker);
    const before = (await outboxMessages(t, victim.destination)).length;
    expectProblem(await requestCode(t, mfaToken, victim.otpFactorId), 404, 'not_found');
    expect(await outboxMessages(t, victim.destination)).toHaveLength(before);
  });

  it('an SMS code is no TOTP code: without its challenge_id it is refused', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(31);
    const login = await startOtpLogin(t, user, user.otpFactorId, user.destination);
    expectProblem(await verify(t, login.mfaToken, { code: login.code }), 401, 'invalid_code');
    expectProblem(await verify(t, login.mfaToken, { factor_id: user.otpFactorId, code: login.code }), 404, 'not_found');
  });

  it('step-up with an SMS code on an active session gives a new access token with a new auth_time', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(60);
    const sent = (await requestCode(t, user.accessToken, user.otpFactorId)).json();
    const [message] = await outboxMessages(t, user.destination);
    expect(message?.purpose).toBe('step_up');
    const response = await verify(t, user.accessToken, { challenge_id: sent.challenge_id, code: await lastSentCode(t, user.destination) });
    expect(response.statusCode, response.body).toBe(200);
    expect(decodeJwt(response.json().access_token)).toMatchObject({ amr: ['pwd', 'sms', 'mfa'], acr: 'aal2', auth_time: Math.floor(t.clock.now() / 1000) });
  });
});

describe('OB-02: a code lives 5 minutes, works once, and only for its own challenge and sign-in', () => {
  it('an expired code is refused (step-up: the access token outlives the code); a new one works', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(31);
    const sent = (await requestCode(t, user.accessToken, user.otpFactorId)).json();
    const code = await lastSentCode(t, user.destination);
    t.clock.advanceSeconds(5 * 60 + 1);
    expectProblem(await verify(t, user.accessToken, { challenge_id: sent.challenge_id, code }), 401, 'invalid_code');
    const again = await requestCode(t, user.accessToken, user.otpFactorId);
    expect(again.statusCode, again.body).toBe(200);
    const response = await verify(t, user.accessToken, { challenge_id: again.json().challenge_id, code: await lastSentCode(t, user.destination) });
    expect(response.statusCode, response.body).toBe(200);
  });

  it('an expired confirmation code is refused; a resent one activates the factor', async () => {
    const user = await signUp(t);
    const phone = uniquePhone();
    const enrollment = (await postJson(t.app, '/v1/factors', { type: 'sms', phone }, bearer(user.accessToken))).json();
    const code = await lastSentCode(t, phone);
    t.clock.advanceSeconds(5 * 60 + 1);
    // Confirming takes what starting took: the session's second factor is no longer recent (SS-09).
    expectProblem(await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code, challenge_id: enrollment.challenge_id }, bearer(user.accessToken)), 401, 'insufficient_authentication');
    // A new enrollment code needs a recent second factor again too: step up with the app first.
    expectProblem(await requestCode(t, user.accessToken, enrollment.factor_id), 401, 'insufficient_authentication');
    const stepUp = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(user.accessToken));
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    const accessToken = stepUp.json().access_token;
    // Recent again, the expired code is still refused, with or without its challenge_id.
    expectProblem(await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code, challenge_id: enrollment.challenge_id }, bearer(accessToken)), 401, 'invalid_code');
    expectProblem(await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code }, bearer(accessToken)), 401, 'invalid_code');
    const resent = await requestCode(t, accessToken, enrollment.factor_id);
    expect(resent.statusCode, resent.body).toBe(200);
    const confirm = await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: await lastSentCode(t, phone) }, bearer(accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
  });

  it('at login: with a 60 s code life, the code is refused after 61 s while the mfa_token still works', async () => {
    const short = await startTestTwofold({ env: { TWOFOLD_OTP_TTL_SECONDS: '60', TWOFOLD_OTP_RESEND_INTERVAL_SECONDS: '0' } });
    try {
      const user = await smsSignUp(short);
      const login = await startOtpLogin(short, user, user.otpFactorId, user.destination);
      expect(login.challenge['expires_in']).toBe(60);
      short.clock.advanceSeconds(61);
      expectProblem(await verify(short, login.mfaToken, { challenge_id: login.challengeId, code: login.code }), 401, 'invalid_code');
      const again = (await requestCode(short, login.mfaToken, user.otpFactorId)).json();
      const response = await verify(short, login.mfaToken, { challenge_id: again.challenge_id, code: await lastSentCode(short, user.destination) });
      expect(response.statusCode, response.body).toBe(200);
    } finally {
      await short.close();
    }
  });

  it('a code that logged in once is refused for another login', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(31);
    const login = await startOtpLogin(t, user, user.otpFactorId, user.destination);
    expect((await verify(t, login.mfaToken, { challenge_id: login.challengeId, code: login.code })).statusCode).toBe(200);
    const again = await loginForMfaToken(t, user);
    expectProblem(await verify(t, again, { challenge_id: login.challengeId, code: login.code }), 401, 'invalid_code');
    expectProblem(await verify(t, login.mfaToken, { challenge_id: login.challengeId, code: login.code }), 401, 'invalid_token');
  });

  it('a step-up code works once: the same challenge and code again is refused', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(31);
    const sent = (await requestCode(t, user.accessToken, user.otpFactorId)).json();
    const code = await lastSentCode(t, user.destination);
    const first = await verify(t, user.accessToken, { challenge_id: sent.challenge_id, code });
    expect(first.statusCode, first.body).toBe(200);
    expectProblem(await verify(t, first.json().access_token, { challenge_id: sent.challenge_id, code }), 401, 'invalid_code');
  });

  it('the code of one challenge does not answer another challenge of the same sign-in (two phones)', async () => {
    const user = await smsSignUp(t);
    const second = uniquePhone();
    const enrollment = (await postJson(t.app, '/v1/factors', { type: 'sms', phone: second }, bearer(user.accessToken))).json();
    expect((await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: await lastSentCode(t, second) }, bearer(user.accessToken))).statusCode).toBe(200);
    t.clock.advanceSeconds(31);
    const login = await startOtpLogin(t, user, user.otpFactorId, user.destination);
    const other = (await requestCode(t, login.mfaToken, enrollment.factor_id)).json();
    const otherCode = await lastSentCode(t, second);
    expectProblem(await verify(t, login.mfaToken, { challenge_id: other.challenge_id, code: login.code }), 401, 'invalid_code');
    expectProblem(await verify(t, login.mfaToken, { challenge_id: login.challengeId, code: otherCode }), 401, 'invalid_code');
    // A challenge_id with the factor_id of the other phone is not that phone's challenge.
    expectProblem(await verify(t, login.mfaToken, { factor_id: enrollment.factor_id, challenge_id: login.challengeId, code: login.code }), 401, 'invalid_code');
    const response = await verify(t, login.mfaToken, { factor_id: enrollment.factor_id, challenge_id: other.challenge_id, code: otherCode });
    expect(response.statusCode, response.body).toBe(200);
  });

  it('a code sent for one sign-in (pending session) does not work for another sign-in of the same user', async () => {
    const user = await smsSignUp(quick);
    const first = await startOtpLogin(quick, user, user.otpFactorId, user.destination);
    quick.clock.advanceSeconds(1);
    const second = await startOtpLogin(quick, user, user.otpFactorId, user.destination);
    expectProblem(await verify(quick, second.mfaToken, { challenge_id: first.challengeId, code: first.code }), 401, 'invalid_code');
    if (first.code !== second.code) expectProblem(await verify(quick, second.mfaToken, { challenge_id: second.challengeId, code: first.code }), 401, 'invalid_code');
    // Both are still good where they belong: the other sign-in did not disturb them.
    expect((await verify(quick, first.mfaToken, { challenge_id: first.challengeId, code: first.code })).statusCode).toBe(200);
    expect((await verify(quick, second.mfaToken, { challenge_id: second.challengeId, code: second.code })).statusCode).toBe(200);
  });

  it("another user's challenge and code are refused, with or without that user's factor_id", async () => {
    const victim = await smsSignUp(quick);
    const attacker = await smsSignUp(quick);
    const victimLogin = await startOtpLogin(quick, victim, victim.otpFactorId, victim.destination);
    const attackerLogin = await startOtpLogin(quick, attacker, attacker.otpFactorId, attacker.destination);
    for (const body of [
      { challenge_id: victimLogin.challengeId, code: victimLogin.code },
      { factor_id: victim.otpFactorId, challenge_id: victimLogin.challengeId, code: victimLogin.code },
      { challenge_id: attackerLogin.challengeId, code: victimLogin.code },
    ]) {
      if (body.challenge_id === attackerLogin.challengeId && victimLogin.code === attackerLogin.code) continue;
      const response = await verify(quick, attackerLogin.mfaToken, body);
      expect(response.statusCode, response.body).toBe(401);
      expect(response.body).not.toContain('access_token');
    }
    const victimTokens = await verify(quick, victimLogin.mfaToken, { challenge_id: victimLogin.challengeId, code: victimLogin.code });
    expect(victimTokens.statusCode).toBe(200);
    expect(decodeJwt(victimTokens.json().access_token).sub).toBe(victim.userId);
  });

  it("another user's pending SMS enrollment cannot be confirmed with its code", async () => {
    const victim = await registerUser(quick);
    const attacker = await registerUser(quick);
    const phone = uniquePhone();
    const enrollment = (await enrollDestination(quick, victim.mfaToken, { type: 'sms', phone })).json();
    const code = await lastSentCode(quick, phone);
    expectProblem(await postJson(quick.app, `/v1/factors/${enrollment.factor_id}/verify`, { code, challenge_id: enrollment.challenge_id }, bearer(attacker.mfaToken)), 404, 'not_found');
    expect((await postJson(quick.app, `/v1/factors/${enrollment.factor_id}/verify`, { code, challenge_id: enrollment.challenge_id }, bearer(victim.mfaToken))).statusCode).toBe(200);
  });
});

describe('OB-03: a resend invalidates the previous code and keeps the failure count', () => {
  it('at login: the old code is refused, the new one works', async () => {
    const user = await smsSignUp(quick);
    const login = await startOtpLogin(quick, user, user.otpFactorId, user.destination);
    quick.clock.advanceSeconds(1);
    const resent = await requestCode(quick, login.mfaToken, user.otpFactorId);
    expect(resent.statusCode, resent.body).toBe(200);
    const newChallengeId = resent.json().challenge_id;
    expect(newChallengeId).not.toBe(login.challengeId);
    const newCode = await lastSentCode(quick, user.destination);
    expectProblem(await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: login.code }), 401, 'invalid_code');
    if (login.code !== newCode) expectProblem(await verify(quick, login.mfaToken, { challenge_id: newChallengeId, code: login.code }), 401, 'invalid_code');
    const old = await quick.ctx.db.selectFrom('challenges').select('superseded_at').where('id', '=', login.challengeId).executeTakeFirstOrThrow();
    expect(old.superseded_at).not.toBeNull();
    expect((await verify(quick, login.mfaToken, { challenge_id: newChallengeId, code: newCode })).statusCode).toBe(200);
  });

  it('at enrollment: the first code is refused once another was sent', async () => {
    const user = await registerUser(quick);
    const phone = uniquePhone();
    const enrollment = (await enrollDestination(quick, user.mfaToken, { type: 'sms', phone })).json();
    const firstCode = await lastSentCode(quick, phone);
    quick.clock.advanceSeconds(1);
    const resent = await requestCode(quick, user.mfaToken, enrollment.factor_id);
    expect(resent.statusCode, resent.body).toBe(200);
    const secondCode = await lastSentCode(quick, phone);
    expectProblem(await postJson(quick.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: firstCode, challenge_id: enrollment.challenge_id }, bearer(user.mfaToken)), 401, 'invalid_code');
    if (firstCode !== secondCode) expectProblem(await postJson(quick.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: firstCode }, bearer(user.mfaToken)), 401, 'invalid_code');
    expect((await postJson(quick.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: secondCode }, bearer(user.mfaToken))).statusCode).toBe(200);
  });

  it('wrong tries before a resend still count against the mfa_token after it', async () => {
    const user = await smsSignUp(quick);
    const login = await startOtpLogin(quick, user, user.otpFactorId, user.destination);
    const max = quick.config.mfa.maxAttemptsPerToken;
    for (let i = 1; i <= 3; i += 1) {
      const body = expectProblem(await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: wrongCode(login.code, i) }), 401, 'invalid_code');
      expect(body['attempts_remaining']).toBe(max - i);
    }
    quick.clock.advanceSeconds(1);
    const resent = (await requestCode(quick, login.mfaToken, user.otpFactorId)).json();
    const newCode = await lastSentCode(quick, user.destination);
    const body = expectProblem(await verify(quick, login.mfaToken, { challenge_id: resent.challenge_id, code: wrongCode(newCode) }), 401, 'invalid_code');
    expect(body['attempts_remaining']).toBe(max - 4);
  });
});

describe('FL-05: 5 wrong tries per challenge, each counted against the account too', () => {
  it('after 5 wrong codes the challenge is dead — the right code fails too — though the mfa_token has tries left', async () => {
    const user = await smsSignUp(quick);
    const login = await startOtpLogin(quick, user, user.otpFactorId, user.destination);
    expect(quick.config.otp.maxAttemptsPerChallenge).toBe(5);
    for (let i = 1; i <= 5; i += 1) expectProblem(await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: wrongCode(login.code, i) }), 401, 'invalid_code');
    const body = expectProblem(await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: login.code }), 401, 'invalid_code');
    expect(body['attempts_remaining']).toBeGreaterThan(0);
    // The mfa_token is still alive: a new code (new challenge) works.
    quick.clock.advanceSeconds(1);
    const resent = (await requestCode(quick, login.mfaToken, user.otpFactorId)).json();
    expect((await verify(quick, login.mfaToken, { challenge_id: resent.challenge_id, code: await lastSentCode(quick, user.destination) })).statusCode).toBe(200);
  });

  it('with the default 5 tries per mfa_token: the 6th try with the right code gets no tokens', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(31);
    const login = await startOtpLogin(t, user, user.otpFactorId, user.destination);
    for (let i = 1; i <= 5; i += 1) {
      const body = expectProblem(await verify(t, login.mfaToken, { challenge_id: login.challengeId, code: wrongCode(login.code, i) }), 401, 'invalid_code');
      expect(body['attempts_remaining']).toBe(5 - i);
    }
    const last = await verify(t, login.mfaToken, { challenge_id: login.challengeId, code: login.code });
    expect(last.statusCode).toBe(401);
    expect(last.body).not.toContain('access_token');
  });

  it('wrong codes raise users.failed_attempts, across a re-login; a success resets it', async () => {
    const user = await smsSignUp(quick);
    expect(await failedAttempts(quick, user.userId)).toBe(0);
    const first = await startOtpLogin(quick, user, user.otpFactorId, user.destination);
    for (let i = 1; i <= 2; i += 1) await verify(quick, first.mfaToken, { challenge_id: first.challengeId, code: wrongCode(first.code, i) });
    expect(await failedAttempts(quick, user.userId)).toBe(2);
    quick.clock.advanceSeconds(1);
    const second = await startOtpLogin(quick, user, user.otpFactorId, user.destination);
    expect(await failedAttempts(quick, user.userId)).toBe(2);
    await verify(quick, second.mfaToken, { challenge_id: second.challengeId, code: wrongCode(second.code) });
    expect(await failedAttempts(quick, user.userId)).toBe(3);
    expect((await verify(quick, second.mfaToken, { challenge_id: second.challengeId, code: second.code })).statusCode).toBe(200);
    expect(await failedAttempts(quick, user.userId)).toBe(0);
  });

  it('wrong confirmation codes count against the account as well', async () => {
    const user = await registerUser(quick);
    const phone = uniquePhone();
    const enrollment = (await enrollDestination(quick, user.mfaToken, { type: 'sms', phone })).json();
    const code = await lastSentCode(quick, phone);
    await postJson(quick.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: wrongCode(code) }, bearer(user.mfaToken));
    await postJson(quick.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: wrongCode(code, 2) }, bearer(user.mfaToken));
    expect(await failedAttempts(quick, user.userId)).toBe(2);
    expect(quick.events.filter((event) => event.type === 'mfa.failed' && event.userId === user.userId)).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------------------------
// FL-07: codes are read before anything is spent. The digits, grouped by spaces or dashes, or in
// the one line they came in, are the code; anything else that cannot be a code is a 400
// invalid_request that spends no attempt; values that are not strings are refused by the schema.

const arabicIndic = (digits: string) => [...digits].map((d) => String.fromCharCode(0x0660 + Number(d))).join('');
const fullWidth = (digits: string) => [...digits].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');

const typedForms: Array<[string, (real: string) => string]> = [
  ['a leading space', (real) => ` ${real}`],
  ['a trailing space', (real) => `${real} `],
  ['a trailing newline', (real) => `${real}\n`],
  ['a dash inside', (real) => `${real.slice(0, 3)}-${real.slice(3)}`],
  ['a space inside', (real) => `${real.slice(0, 3)} ${real.slice(3)}`],
  ['a non-breaking space inside', (real) => `${real.slice(0, 3)}\u00a0${real.slice(3)}`],
  ['an en dash inside', (real) => `${real.slice(0, 3)}\u2013${real.slice(3)}`],
  ['the line it came in', (real) => `Your code is ${real.slice(0, 3)} ${real.slice(3)}`],
];
const malformedStrings: Array<[string, (real: string) => string]> = [
  ['"" (empty)', () => ''],
  ['a trailing NUL', (real) => `${real}\u0000`],
  ['a zero-width space', (real) => `${real}\u200b`],
  ['Arabic-Indic digits', (real) => arabicIndic(real)],
  ['full-width digits', (real) => fullWidth(real)],
  ['5 of its digits', (real) => real.slice(0, 5)],
  ['a 7th digit', (real) => `${real}0`],
  ['a leading zero', (real) => `0${real}`],
  ['a sign', (real) => `+${real.slice(1)}`],
  ['letters among the digits', (real) => [...real].map((digit) => `${digit}x`).join('')],
  ['a second number in the line', (real) => `Your code is ${real}. It expires in 5 minutes.`],
];
const nonStrings: Array<[string, (real: string) => unknown]> = [
  ['null', () => null],
  ['a number', (real) => Number(real)],
  ['an array', (real) => [real]],
  ['an object', (real) => ({ code: real })],
  ['true', () => true],
];

async function challengeAttempts(app: TestTwofold, challengeId: string): Promise<number> {
  const row = await app.ctx.db.selectFrom('challenges').select('attempts').where('id', '=', challengeId).executeTakeFirstOrThrow();
  return Number(row.attempts);
}

describe('FL-07: codes at /v1/mfa/verify', () => {
  it.each(typedForms)('Codes with spaces or dashes are accepted: the code with %s signs in', async (_name, make) => {
    const user = await smsSignUp(quick);
    const login = await startOtpLogin(quick, user, user.otpFactorId, user.destination);
    const response = await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: make(login.code) });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().access_token).toMatch(/^ey/);
  });

  it.each(malformedStrings)('the code with %s → 400 invalid_request, before any attempt is spent; the real code then still works', async (_name, make) => {
    const user = await smsSignUp(quick);
    const login = await startOtpLogin(quick, user, user.otpFactorId, user.destination);
    const before = await failedAttempts(quick, user.userId);
    const body = expectProblem(await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: make(login.code) }), 400, 'invalid_request');
    expect(body['errors']).toEqual([{ pointer: '#/code', detail: expect.stringMatching(/6-digit code/) }]);
    expect(body['attempts_remaining']).toBeUndefined();
    expect(await challengeAttempts(quick, login.challengeId)).toBe(0);
    expect(await failedAttempts(quick, user.userId)).toBe(before);
    // A wrong code now is the first attempt of the token.
    expect(expectProblem(await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: wrongCode(login.code) }), 401, 'invalid_code')['attempts_remaining']).toBe(quick.config.mfa.maxAttemptsPerToken - 1);
    const response = await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: login.code });
    expect(response.statusCode, response.body).toBe(200);
  });

  it.each(nonStrings)('the code as %s → 400 invalid_request, no tokens', async (_name, make) => {
    const user = await smsSignUp(quick);
    const login = await startOtpLogin(quick, user, user.otpFactorId, user.destination);
    const response = await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: make(login.code) });
    expectProblem(response, 400, 'invalid_request');
    expect(response.body).not.toContain('access_token');
    expect((await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: login.code })).statusCode).toBe(200);
  });
});

describe('FL-07: codes at /v1/factors/{id}/verify (SMS enrollment)', () => {
  it.each(typedForms)('Codes with spaces or dashes are accepted: the code with %s confirms the phone', async (_name, make) => {
    const user = await registerUser(quick);
    const phone = uniquePhone();
    const enrollment = (await enrollDestination(quick, user.mfaToken, { type: 'sms', phone })).json();
    const code = await lastSentCode(quick, phone);
    const response = await postJson(quick.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: make(code), challenge_id: enrollment.challenge_id }, bearer(user.mfaToken));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().factor.status).toBe('active');
  });

  it.each(malformedStrings)('the code with %s → 400 invalid_request, no attempt spent; the factor stays pending', async (_name, make) => {
    const user = await registerUser(quick);
    const phone = uniquePhone();
    const enrollment = (await enrollDestination(quick, user.mfaToken, { type: 'sms', phone })).json();
    const code = await lastSentCode(quick, phone);
    const url = `/v1/factors/${enrollment.factor_id}/verify`;
    expectProblem(await postJson(quick.app, url, { code: make(code), challenge_id: enrollment.challenge_id }, bearer(user.mfaToken)), 400, 'invalid_request');
    expect(await challengeAttempts(quick, enrollment.challenge_id)).toBe(0);
    expect(await failedAttempts(quick, user.userId)).toBe(0);
    const row = await quick.ctx.db.selectFrom('factors').select('status').where('id', '=', enrollment.factor_id).executeTakeFirstOrThrow();
    expect(row.status).toBe('pending');
    expect((await postJson(quick.app, url, { code, challenge_id: enrollment.challenge_id }, bearer(user.mfaToken))).statusCode).toBe(200);
  });

  it.each(nonStrings)('the code as %s → 400 invalid_request', async (_name, make) => {
    const user = await registerUser(quick);
    const phone = uniquePhone();
    const enrollment = (await enrollDestination(quick, user.mfaToken, { type: 'sms', phone })).json();
    const code = await lastSentCode(quick, phone);
    expectProblem(await postJson(quick.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: make(code) }, bearer(user.mfaToken)), 400, 'invalid_request');
  });
});

describe('OB-03: sends are throttled (429 too_many_attempts with Retry-After)', () => {
  it('a second code to the same phone within the resend interval (30 s) is refused; the first code stays good', async () => {
    const user = await registerUser(t);
    const phone = uniquePhone();
    const enrollment = (await enrollDestination(t, user.mfaToken, { type: 'sms', phone })).json();
    const code = await lastSentCode(t, phone);
    t.clock.advanceSeconds(10);
    const retryAfter = expectTooManySends(await requestCode(t, user.mfaToken, enrollment.factor_id), 30);
    expect(retryAfter).toBe(19);
    expect(await outboxMessages(t, phone)).toHaveLength(1);
    expect((await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code, challenge_id: enrollment.challenge_id }, bearer(user.mfaToken))).statusCode).toBe(200);
  });

  it('the interval is per phone, whoever asks: another account cannot make the phone ring either', async () => {
    const phone = uniquePhone();
    const first = await registerUser(t);
    expect((await enrollDestination(t, first.mfaToken, { type: 'sms', phone })).statusCode).toBe(201);
    const second = await registerUser(t);
    expectTooManySends(await enrollDestination(t, second.mfaToken, { type: 'sms', phone }), 30);
    expect(await outboxMessages(t, phone)).toHaveLength(1);
    // Another phone is not held up.
    expect((await enrollDestination(t, second.mfaToken, { type: 'sms', phone: uniquePhone() })).statusCode).toBe(201);
  });

  it('once the interval has passed, the next code is sent', async () => {
    const user = await smsSignUp(t);
    const mfaToken = await loginForMfaToken(t, user);
    expectTooManySends(await requestCode(t, mfaToken, user.otpFactorId), 30);
    t.clock.advanceSeconds(31);
    const sent = await requestCode(t, mfaToken, user.otpFactorId);
    expect(sent.statusCode, sent.body).toBe(200);
    expect((await verify(t, mfaToken, { challenge_id: sent.json().challenge_id, code: await lastSentCode(t, user.destination) })).statusCode).toBe(200);
  });

  it('at most 5 codes per phone per 15 minutes, for any account', async () => {
    const user = await registerUser(counting);
    const phone = uniquePhone();
    const enrollment = (await enrollDestination(counting, user.mfaToken, { type: 'sms', phone })).json();
    for (let i = 2; i <= 5; i += 1) expect((await requestCode(counting, user.mfaToken, enrollment.factor_id)).statusCode).toBe(200);
    expectTooManySends(await requestCode(counting, user.mfaToken, enrollment.factor_id), 15 * 60);
    expect(await outboxMessages(counting, phone)).toHaveLength(5);
    const other = await registerUser(counting);
    expectTooManySends(await enrollDestination(counting, other.mfaToken, { type: 'sms', phone }), 15 * 60);
    expect(await outboxMessages(counting, phone)).toHaveLength(5);
    // The refused sends did not kill the last code.
    const confirm = await postJson(counting.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: await lastSentCode(counting, phone) }, bearer(user.mfaToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
  });

  it('at most 10 codes per account per hour, whichever phones they go to', async () => {
    const user = await registerUser(counting);
    const phones = [uniquePhone(), uniquePhone(), uniquePhone()];
    for (const phone of phones.slice(0, 2)) {
      const enrollment = await enrollDestination(counting, user.mfaToken, { type: 'sms', phone });
      expect(enrollment.statusCode, enrollment.body).toBe(201);
      for (let i = 2; i <= 5; i += 1) expect((await requestCode(counting, user.mfaToken, enrollment.json().factor_id)).statusCode).toBe(200);
    }
    const retryAfter = expectTooManySends(await enrollDestination(counting, user.mfaToken, { type: 'sms', phone: phones[2]! }), 60 * 60);
    expect(retryAfter).toBeGreaterThan(15 * 60); // the account's hour, not a phone's 15 minutes
    expect(await outboxMessages(counting, phones[2]!)).toHaveLength(0);
    // Another account may still send to a fresh phone.
    const other = await registerUser(counting);
    expect((await enrollDestination(counting, other.mfaToken, { type: 'sms', phone: uniquePhone() })).statusCode).toBe(201);
  });
});

// ---------------------------------------------------------------------------------------------
// FL-09 / OB-01 / LOG-01: a complete SMS life — sign-up, wrong codes, resends, login, step-up, a
// second phone — and not one of the codes sent appears in a response or in the log.

type Inject = (options: InjectOptions) => Promise<LightMyRequestResponse>;

/** app.inject that keeps every response (headers and body). */
function recording(app: FastifyInstance): { responses: string[]; inject: Inject } {
  const responses: string[] = [];
  const inject: Inject = async (options) => {
    const response = await app.inject(options);
    responses.push(`${JSON.stringify(response.headers)}\n${response.body}`);
    return response;
  };
  return { responses, inject };
}

async function fullSmsLife(instance: TestTwofold, inject: Inject): Promise<{ phones: string[]; codes: string[] }> {
  const post = (url: string, body: unknown, token: string) => inject({ method: 'POST', url, payload: body as object, headers: { 'content-type': 'application/json', ...bearer(token) } });
  const phones = [uniquePhone(), uniquePhone()];
  const registered = (await inject({ method: 'POST', url: '/v1/register', payload: { username: uniqueUsername('smslife'), password: strongPassword } })).json();
  const username = registered.user.username;
  const enrollment = (await post('/v1/factors', { type: 'sms', phone: phones[0] }, registered.mfa_token)).json();
  const enrollCode = await lastSentCode(instance, phones[0]!);
  await post(`/v1/factors/${enrollment.factor_id}/verify`, { code: wrongCode(enrollCode) }, registered.mfa_token);
  const signedUp = (await post(`/v1/factors/${enrollment.factor_id}/verify`, { code: enrollCode, challenge_id: enrollment.challenge_id }, registered.mfa_token)).json();
  expect(signedUp.access_token).toBeDefined();

  instance.clock.advanceSeconds(31);
  const mfaToken = (await inject({ method: 'POST', url: '/v1/login', payload: { username, password: strongPassword } })).json().mfa_token;
  const first = (await post('/v1/mfa/challenge', { factor_id: enrollment.factor_id }, mfaToken)).json();
  const firstCode = await lastSentCode(instance, phones[0]!);
  await post('/v1/mfa/verify', { challenge_id: first.challenge_id, code: wrongCode(firstCode) }, mfaToken);
  await post('/v1/mfa/challenge', { factor_id: enrollment.factor_id }, mfaToken); // too soon: 429
  instance.clock.advanceSeconds(31);
  const second = (await post('/v1/mfa/challenge', { factor_id: enrollment.factor_id }, mfaToken)).json();
  await post('/v1/mfa/verify', { challenge_id: first.challenge_id, code: firstCode }, mfaToken); // superseded
  const tokens = (await post('/v1/mfa/verify', { challenge_id: second.challenge_id, code: await lastSentCode(instance, phones[0]!) }, mfaToken)).json();
  expect(tokens.access_token).toBeDefined();

  const added = (await post('/v1/factors', { type: 'sms', phone: phones[1] }, tokens.access_token)).json();
  await post(`/v1/factors/${added.factor_id}/verify`, { code: await lastSentCode(instance, phones[1]!) }, tokens.access_token);
  instance.clock.advanceSeconds(31);
  const stepUp = (await post('/v1/mfa/challenge', { factor_id: added.factor_id }, tokens.access_token)).json();
  await post('/v1/mfa/verify', { challenge_id: stepUp.challenge_id, code: await lastSentCode(instance, phones[1]!) }, tokens.access_token);
  await inject({ method: 'GET', url: '/v1/factors', headers: bearer(tokens.access_token) });
  await inject({ method: 'GET', url: '/v1/me', headers: bearer(tokens.access_token) });
  await inject({ method: 'POST', url: '/v1/login', payload: { username, password: strongPassword } });

  const codes = new Set<string>();
  for (const phone of phones) {
    for (const message of await outboxMessages(instance, phone)) codes.add(/\b(\d{6})\b/.exec(message.body)![1]!);
  }
  expect(codes.size).toBeGreaterThanOrEqual(4);
  return { phones, codes: [...codes] };
}

describe('FL-09 / OB-01: no code ever appears in an HTTP response', () => {
  it('a whole SMS life: every response body and header is free of every code sent', async () => {
    const { responses, inject } = recording(t.app);
    const { codes } = await fullSmsLife(t, inject);
    expect(responses.length).toBeGreaterThan(15);
    for (const code of codes) {
      for (const response of responses) expect(containsCode(response, code), `code ${code} in a response:\n${response}`).toBe(false);
    }
  });
});

describe('LOG-01: codes never reach the log', () => {
  it('with a trace-level logger, no code sent appears in any log line, while the sends and failures are logged', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    });
    const logged = await startTestTwofold({ logger: createLogger({ log: { level: 'trace' } }, sink) });
    try {
      const { codes } = await fullSmsLife(logged, (options) => logged.app.inject(options));
      const log = lines.join('');
      for (const code of codes) expect(containsCode(log, code), `code ${code} leaked into the log`).toBe(false);
      const events = lines.map((line) => JSON.parse(line)).filter((entry) => entry.event !== undefined).map((entry) => entry.event);
      expect(events).toEqual(expect.arrayContaining(['challenge.sent', 'mfa.failed', 'factor.activated', 'login.completed', 'step_up.completed']));
    } finally {
      await logged.close();
    }
  });
});

describe('TOTP codes are not SMS codes', () => {
  it('an authenticator-app code does not answer an SMS challenge', async () => {
    const user = await signUp(quick);
    const phone = uniquePhone();
    const enrollment = (await postJson(quick.app, '/v1/factors', { type: 'sms', phone }, bearer(user.accessToken))).json();
    expect((await postJson(quick.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: await lastSentCode(quick, phone) }, bearer(user.accessToken))).statusCode).toBe(200);
    quick.clock.advanceSeconds(30);
    const login = await startOtpLogin(quick, user, enrollment.factor_id, phone);
    const appCode = totpCode(quick, user.secret);
    if (appCode !== login.code) expectProblem(await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: appCode }), 401, 'invalid_code');
    expect((await verify(quick, login.mfaToken, { challenge_id: login.challengeId, code: login.code })).statusCode).toBe(200);
  });
});
