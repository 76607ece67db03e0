// LOG-01: a full flow, plus the mistakes clients make (a token in the URL, a
// wrong code, a bad body), leaves no password, code, secret or token anywhere in the log —
// while the log does record every authentication decision.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/http/logger.js';
import { bearer, getJson, postJson, registerUser, totpCode } from '../helpers/flow.js';
import { smsSignUp, startOtpLogin } from '../helpers/otp.js';
import { lastResetCode, outboxMessages, sixDigitCodeIn } from '../helpers/outbox.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
const lines: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  t = await startTestTwofold({ logger: createLogger({ log: { level: 'trace' } }, sink) });
});
afterAll(async () => t.close());

describe('logs', () => {
  it('LOG-01: never contain passwords, codes, secrets or tokens, but record every decision', async () => {
    const password = 'log-canary passphrase 7731';
    const user = await registerUser(t, { password });
    const confirmCode = totpCode(t, user.secret);
    const confirm = (await postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code: confirmCode }, bearer(user.mfaToken))).json();
    const wrongPassword = 'wrong-canary passphrase 9917';
    await postJson(t.app, '/v1/login', { username: user.username, password: wrongPassword });
    t.clock.advanceSeconds(60);
    const mfaToken = (await postJson(t.app, '/v1/login', { username: user.username, password })).json().mfa_token;
    const wrongCode = totpCode(t, user.secret, 5);
    await postJson(t.app, '/v1/mfa/verify', { code: wrongCode }, bearer(mfaToken));
    const loginCode = totpCode(t, user.secret);
    const tokens = (await postJson(t.app, '/v1/mfa/verify', { code: loginCode }, bearer(mfaToken))).json();
    await getJson(t.app, `/v1/me?access_token=${tokens.access_token}`);
    await getJson(t.app, '/v1/me', bearer(tokens.access_token));
    await postJson(t.app, '/v1/login', { username: user.username, password: [password] });
    const refreshed = (await postJson(t.app, '/v1/token/refresh', { refresh_token: tokens.refresh_token })).json();
    await postJson(t.app, '/v1/token/refresh', { refresh_token: tokens.refresh_token }); // within the reuse grace: the same answer
    t.clock.advanceSeconds(10);
    await postJson(t.app, '/v1/token/refresh', { refresh_token: tokens.refresh_token }); // reuse
    await postJson(t.app, '/v1/mfa/verify', { recovery_code: confirm.recovery_codes[0] }, bearer(mfaToken));
    t.clock.advanceSeconds(60);
    const secondMfaToken = (await postJson(t.app, '/v1/login', { username: user.username, password })).json().mfa_token;
    const secondCode = totpCode(t, user.secret);
    const second = (await postJson(t.app, '/v1/mfa/verify', { code: secondCode }, bearer(secondMfaToken))).json();
    expect((await postJson(t.app, '/v1/logout', {}, bearer(second.access_token))).statusCode).toBe(204);

    const log = lines.join('');
    const secrets = {
      password,
      wrongPassword,
      totpSecret: user.secret,
      confirmCode,
      wrongCode,
      loginCode,
      secondCode,
      mfaToken,
      secondMfaToken,
      secondAccessToken: second.access_token,
      secondRefreshToken: second.refresh_token,
      registrationMfaToken: user.mfaToken,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      rotatedRefreshToken: refreshed.refresh_token,
      ...Object.fromEntries(confirm.recovery_codes.map((code: string, i: number) => [`recoveryCode${i}`, code])),
    };
    for (const [name, value] of Object.entries(secrets)) {
      // Six-digit codes are looked for as whole numbers: "123456" inside a timestamp is not a leak.
      const leaked = /^\d{6}$/.test(value) ? new RegExp(`(?<!\\d)${value}(?!\\d)`).test(log) : log.includes(value);
      expect(leaked, `${name} leaked into the log`).toBe(false);
      // Token signatures and payloads separately: a partial leak is a leak.
      for (const part of String(value).split('.').filter((segment) => segment.length > 20)) expect(log.includes(part), `${name} (part) leaked`).toBe(false);
    }
    const events = lines.map((line) => JSON.parse(line)).filter((entry) => entry.event !== undefined).map((entry) => entry.event);
    expect(events).toEqual(expect.arrayContaining(['user.registered', 'factor.activated', 'login.password_failed', 'login.password_verified', 'mfa.failed', 'login.completed', 'token.refreshed', 'token.refresh_grace_replay', 'token.refresh_reuse_detected', 'session.revoked']));
    expect(log).toContain('"path":"/v1/me"');
  });

  it('LOG-01: SMS codes, reset codes and remembered-browser tokens never reach the log either (the outbox keeps them sealed)', async () => {
    const from = lines.length;
    const user = await smsSignUp(t);
    const signUpCode = (await outboxMessages(t, user.destination)).map((message) => sixDigitCodeIn(message.body))[0]!;
    t.clock.advanceSeconds(31);
    const login = await startOtpLogin(t, user, user.otpFactorId, user.destination);
    const remembered = (await postJson(t.app, '/v1/mfa/verify', { challenge_id: login.challengeId, code: login.code, remember_device: true }, bearer(login.mfaToken))).json();
    expect(remembered.device_token).toEqual(expect.any(String));
    const next = (await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json();
    expect((await postJson(t.app, '/v1/mfa/verify', { device_token: remembered.device_token }, bearer(next.mfa_token))).statusCode).toBe(200);
    expect((await postJson(t.app, '/v1/password/forgot', { username: user.username })).statusCode).toBe(202);
    const resetCode = await lastResetCode(t, user.destination);

    const log = lines.slice(from).join('');
    expect(log).toContain('challenge.sent');
    for (const code of [signUpCode, login.code]) expect(new RegExp(`(?<!\\d)${code}(?!\\d)`).test(log), `SMS code ${code} in the log`).toBe(false);
    expect(log.includes(resetCode), 'the reset code in the log').toBe(false);
    expect(log.includes(remembered.device_token), 'the device token in the log').toBe(false);
  });
});
