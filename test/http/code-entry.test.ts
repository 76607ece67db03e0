// Codes as people type and paste them (the first hour): apps show "792 821", messages "792-821",
// a copied line brings a non-breaking space or a newline. Every endpoint that takes a code reads
// it before anything is spent: the digits grouped by spaces or dashes (or in the one line they
// came in) are the code; what cannot be a code is a 400 invalid_request that moves no counter —
// not the account's guesses (spent together with the client network's, so neither), not the
// token's, session's, challenge's or reset's attempts. A wrong code of the right shape still
// spends, as before (the control).
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Base64url } from '../../src/core/crypto/digest.js';
import { bearer, expectProblem, loginForMfaToken, postJson, registerUser, signUp, totpCode, uniqueUsername } from '../helpers/flow.js';
import { enrollDestination, requestCode, smsSignUp, startOtpLogin, uniqueEmail, uniquePhone, wrongCode } from '../helpers/otp.js';
import { lastResetCode, lastSentCode, verifyAddress } from '../helpers/outbox.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold({ env: { TWOFOLD_FACTORS: 'totp,sms,webauthn,recovery,email', TWOFOLD_OTP_RESEND_INTERVAL_SECONDS: '0' } });
});
afterAll(async () => t?.close());

/** Everything a guess or an attempt moves, for one user. */
async function spentBy(user: { username: string; userId: string }) {
  const db = t.ctx.db;
  return {
    accountGuesses: await t.ctx.kv.get(`throttle:account:${sha256Base64url(user.username)}:failures`),
    failedAttempts: (await db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow()).failed_attempts,
    sessionAttempts: await db.selectFrom('sessions').select(['id', 'mfa_attempts']).where('user_id', '=', user.userId).orderBy('id').execute(),
    challengeAttempts: await db.selectFrom('challenges').select(['id', 'attempts']).where('user_id', '=', user.userId).orderBy('id').execute(),
    resetAttempts: await db.selectFrom('password_resets').select(['id', 'attempts']).where('user_id', '=', user.userId).orderBy('id').execute(),
  };
}

interface Situation {
  /** The code the person has in front of them. */
  real: string;
  send(code: string): Promise<LightMyRequestResponse>;
  /** The status of a code that was right. */
  ok: number;
  /** A right-shaped code that is not the real one. */
  wrong: string;
  spent(): Promise<unknown>;
}

interface CodeEndpoint {
  name: string;
  field: string;
  prepare(): Promise<Situation>;
}

const verify = (token: string, body: Record<string, unknown>) => postJson(t.app, '/v1/mfa/verify', body, bearer(token));

/** A phone or e-mail code sent at sign-in to a user who has an app and that factor. */
async function sentCodeAtSignIn(type: 'sms' | 'email'): Promise<Situation> {
  if (type === 'sms') {
    const user = await smsSignUp(t);
    const login = await startOtpLogin(t, user, user.otpFactorId, user.destination);
    return { real: login.code, ok: 200, wrong: wrongCode(login.code), send: (code) => verify(login.mfaToken, { challenge_id: login.challengeId, code }), spent: () => spentBy(user) };
  }
  const user = await signUp(t);
  const email = uniqueEmail('codes');
  const enrollment = (await enrollDestination(t, user.accessToken, { type: 'email', email })).json();
  const confirmed = await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: await lastSentCode(t, email), challenge_id: enrollment.challenge_id }, bearer(user.accessToken));
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  const mfaToken = await loginForMfaToken(t, user);
  const challenge = (await requestCode(t, mfaToken, enrollment.factor_id)).json();
  const code = await lastSentCode(t, email);
  return { real: code, ok: 200, wrong: wrongCode(code), send: (typed) => verify(mfaToken, { challenge_id: challenge.challenge_id, code: typed }), spent: () => spentBy(user) };
}

/** A phone or address being confirmed: with the registration's mfa_token (SMS) or an access token (e-mail). */
async function sentCodeAtEnrollment(type: 'sms' | 'email'): Promise<Situation> {
  const user = type === 'sms' ? await registerUser(t) : await signUp(t);
  const token: string = type === 'sms' ? user.mfaToken : (user as Awaited<ReturnType<typeof signUp>>).accessToken;
  const destination = type === 'sms' ? uniquePhone() : uniqueEmail('confirm');
  const enrollment = (await enrollDestination(t, token, type === 'sms' ? { type, phone: destination } : { type, email: destination })).json();
  const code = await lastSentCode(t, destination);
  return {
    real: code,
    ok: 200,
    wrong: wrongCode(code),
    send: (typed) => postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: typed, challenge_id: enrollment.challenge_id }, bearer(token)),
    spent: () => spentBy(user),
  };
}

const numericEndpoints: CodeEndpoint[] = [
  {
    name: 'TOTP at sign-in (POST /v1/mfa/verify)',
    field: 'code',
    async prepare() {
      const user = await signUp(t);
      t.clock.advanceSeconds(60);
      const mfaToken = await loginForMfaToken(t, user);
      const real = totpCode(t, user.secret);
      return { real, ok: 200, wrong: wrongCode(real, 500_000), send: (code) => verify(mfaToken, { code }), spent: () => spentBy(user) };
    },
  },
  {
    name: 'TOTP confirming the app (POST /v1/factors/{id}/verify)',
    field: 'code',
    async prepare() {
      const user = await registerUser(t);
      const real = totpCode(t, user.secret);
      return { real, ok: 200, wrong: wrongCode(real, 500_000), send: (code) => postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code }, bearer(user.mfaToken)), spent: () => spentBy(user) };
    },
  },
  {
    name: 'TOTP step-up (POST /v1/mfa/verify with an access token)',
    field: 'code',
    async prepare() {
      const user = await signUp(t);
      t.clock.advanceSeconds(60);
      const real = totpCode(t, user.secret);
      return { real, ok: 200, wrong: wrongCode(real, 500_000), send: (code) => verify(user.accessToken, { code }), spent: () => spentBy(user) };
    },
  },
  { name: 'SMS code at sign-in', field: 'code', prepare: () => sentCodeAtSignIn('sms') },
  { name: 'SMS code confirming the phone', field: 'code', prepare: () => sentCodeAtEnrollment('sms') },
  { name: 'e-mail code at sign-in', field: 'code', prepare: () => sentCodeAtSignIn('email') },
  { name: 'e-mail code confirming the address', field: 'code', prepare: () => sentCodeAtEnrollment('email') },
];

const typedNumeric: Array<[string, (real: string) => string]> = [
  ['"123 456" (spaces)', (real) => `${real.slice(0, 3)} ${real.slice(3)}`],
  ['"123-456" (a dash)', (real) => `${real.slice(0, 3)}-${real.slice(3)}`],
  ['"12 34 56" (pairs)', (real) => `${real.slice(0, 2)} ${real.slice(2, 4)} ${real.slice(4)}`],
  ['a non-breaking space and an en dash', (real) => `${real.slice(0, 2)}\u00a0${real.slice(2, 4)}\u2013${real.slice(4)}`],
  ['the whole line pasted ("Your code is 123 456" and its newline)', (real) => `Your code is ${real.slice(0, 3)} ${real.slice(3)}\n`],
];

const malformedNumeric: Array<[string, (real: string) => string]> = [
  ['letters in it', (real) => `${real.slice(0, 3)}ab${real.slice(3)}`],
  ['too short', (real) => real.slice(0, 5)],
  ['too long', (real) => `${real}${real.slice(0, 1)}`],
  ['digits scattered through text (never joined)', (real) => [...real].map((digit) => `x${digit}`).join('')],
  ['empty', () => ''],
];

/** A recovery code at sign-in, and a password reset code: 20 letters and digits. */
const lettersEndpoints: CodeEndpoint[] = [
  {
    name: 'recovery code at sign-in (POST /v1/mfa/verify)',
    field: 'recovery_code',
    async prepare() {
      const user = await signUp(t);
      const mfaToken = await loginForMfaToken(t, user);
      const real = user.recoveryCodes[0]!;
      return { real, ok: 200, wrong: 'AAAAA-AAAAA-AAAAA-AAAAA', send: (code) => verify(mfaToken, { recovery_code: code }), spent: () => spentBy(user) };
    },
  },
  {
    name: 'password reset code (POST /v1/password/reset)',
    field: 'code',
    async prepare() {
      const email = `${uniqueUsername('reset')}@example.com`;
      const user = await registerUser(t, { email });
      await verifyAddress(t, email);
      expect((await postJson(t.app, '/v1/password/forgot', { username: user.username })).statusCode).toBe(202);
      const real = await lastResetCode(t, email);
      return {
        real,
        ok: 204,
        wrong: 'AAAAA-AAAAA-AAAAA-AAAAA',
        send: (code) => postJson(t.app, '/v1/password/reset', { username: user.username, code, new_password: 'a completely new passphrase' }),
        spent: () => spentBy(user),
      };
    },
  },
];

const typedLetters: Array<[string, (real: string) => string]> = [
  ['in lower case', (real) => real.toLowerCase()],
  ['with spaces for dashes', (real) => real.replace(/-/g, ' ')],
  ['without dashes', (real) => real.replace(/-/g, '')],
  ['with Unicode dashes and a non-breaking space', (real) => real.replace('-', '\u2011').replace('-', '\u2013').replace('-', '\u00a0')],
  ['with a space and a newline around it', (real) => ` ${real}\n`],
];

const malformedLetters: Array<[string, (real: string) => string]> = [
  ['too short', (real) => real.slice(0, -1)],
  ['a letter outside the alphabet', (real) => `${real.slice(0, -1)}U`],
  ['words', () => 'not a code'],
];

const cases = (endpoints: CodeEndpoint[], forms: Array<[string, (real: string) => string]>) =>
  endpoints.flatMap((endpoint) => forms.map(([form, make]) => [endpoint.name, form, endpoint, make] as const));

describe('Codes with spaces or dashes are accepted before an attempt is spent', () => {
  it.each([...cases(numericEndpoints, typedNumeric), ...cases(lettersEndpoints, typedLetters)])('%s: typed %s', async (_endpoint, _form, endpoint, make) => {
    const situation = await endpoint.prepare();
    const response = await situation.send(make(situation.real));
    expect(response.statusCode, response.body).toBe(situation.ok);
  });
});

describe('Malformed codes are refused with 400 invalid_request and spend no guess and no attempt', () => {
  it.each([...cases(numericEndpoints, malformedNumeric), ...cases(lettersEndpoints, malformedLetters)])('%s: %s', async (_endpoint, _form, endpoint, make) => {
    const situation = await endpoint.prepare();
    const before = await situation.spent();
    // More of them than any budget allows: none of them counts.
    for (let i = 0; i < 6; i += 1) {
      const body = expectProblem(await situation.send(make(situation.real)), 400, 'invalid_request');
      expect(body['errors']).toEqual([{ pointer: `#/${endpoint.field}`, detail: expect.any(String) }]);
      expect(body['attempts_remaining']).toBeUndefined();
    }
    expect(await situation.spent()).toEqual(before);
    // Every attempt is still there: the real code works.
    const response = await situation.send(situation.real);
    expect(response.statusCode, response.body).toBe(situation.ok);
  });

  it.each([...numericEndpoints, ...lettersEndpoints].map((endpoint) => [endpoint.name, endpoint] as const))('control, %s: a wrong code of the right shape does spend', async (_name, endpoint) => {
    const situation = await endpoint.prepare();
    const before = await situation.spent();
    const response = await situation.send(situation.wrong);
    expect(response.statusCode, response.body).toBe(401);
    expect(await situation.spent()).not.toEqual(before);
  });
});
