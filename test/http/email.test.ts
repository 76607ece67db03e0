// E-mail codes through the HTTP API (OB-05, FL-09): off by default;
// when TWOFOLD_FACTORS enables them, the same code rules as SMS, but an e-mail code is not an AAL2
// authenticator (NIST SP 800-63B-4): its session says amr ["pwd", "email"], acr "aal1", cannot
// manage factors, and an e-mail code cannot step a session up.
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, loginForMfaToken, postJson, registerUser, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { containsCode, enrollDestination, requestCode, startOtpLogin, uniqueEmail, wrongCode } from '../helpers/otp.js';
import { lastSentCode, outboxMessages } from '../helpers/outbox.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const withEmail = 'totp,sms,email,webauthn,recovery';

let t: TestTwofold;
let plain: TestTwofold;
beforeAll(async () => {
  [t, plain] = await Promise.all([startTestTwofold({ env: { TWOFOLD_FACTORS: withEmail } }), startTestTwofold()]);
});
afterAll(async () => {
  await Promise.all([t?.close(), plain?.close()]);
});

const verify = (token: string, body: Record<string, unknown>) => postJson(t.app, '/v1/mfa/verify', body, bearer(token));
const del = (url: string, token: string) => t.app.inject({ method: 'DELETE', url, headers: bearer(token) });

interface EmailUser extends SignedUp {
  emailFactorId: string;
  email: string;
}

/** A user with an authenticator app (the sign-up) and a confirmed e-mail address. */
async function emailUser(address = uniqueEmail()): Promise<EmailUser> {
  const user = await signUp(t);
  const enroll = await enrollDestination(t, user.accessToken, { type: 'email', email: address });
  expect(enroll.statusCode, enroll.body).toBe(201);
  const confirm = await postJson(t.app, `/v1/factors/${enroll.json().factor_id}/verify`, { code: await lastSentCode(t, address) }, bearer(user.accessToken));
  expect(confirm.statusCode, confirm.body).toBe(200);
  return { ...user, emailFactorId: enroll.json().factor_id, email: address };
}

/** An access token from a login completed with an e-mail code (aal1). */
async function emailSession(user: EmailUser): Promise<{ accessToken: string; refreshToken: string }> {
  t.clock.advanceSeconds(31);
  const login = await startOtpLogin(t, user, user.emailFactorId, user.email);
  const response = await verify(login.mfaToken, { factor_id: user.emailFactorId, challenge_id: login.challengeId, code: login.code });
  expect(response.statusCode, response.body).toBe(200);
  return { accessToken: response.json().access_token, refreshToken: response.json().refresh_token };
}

function expectForbidden(response: LightMyRequestResponse): void {
  expectProblem(response, 403, 'forbidden');
}

describe('e-mail enrollment (TWOFOLD_FACTORS includes email)', () => {
  it('POST /v1/factors {type: "email"} with a fresh access token: 201, masked address, a code in the outbox; confirming activates it', async () => {
    const user = await signUp(t);
    const email = uniqueEmail('alice');
    const response = await enrollDestination(t, user.accessToken, { type: 'email', email });
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['challenge_id', 'destination', 'expires_in', 'factor_id', 'label', 'status', 'type']);
    expect(body).toMatchObject({ type: 'email', status: 'pending', expires_in: 300, destination: 'a•••@example.com' });
    expect(response.body).not.toContain(email);

    const messages = await outboxMessages(t, email);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ channel: 'email', destination: email, purpose: 'enroll' });
    expect(messages[0]?.subject).toEqual(expect.any(String));
    const code = await lastSentCode(t, email);

    const confirm = await postJson(t.app, `/v1/factors/${body.factor_id}/verify`, { code, challenge_id: body.challenge_id }, bearer(user.accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(confirm.json()).toEqual({ factor: expect.objectContaining({ id: body.factor_id, type: 'email', status: 'active', destination: 'a•••@example.com' }) });
    expect(confirm.body).not.toContain(code);
  });

  it('the domain is case-folded and the code goes to the normalized address', async () => {
    const user = await signUp(t);
    const local = `Mixed.Case${process.pid}`;
    const response = await enrollDestination(t, user.accessToken, { type: 'email', email: `  ${local}@Example.COM ` });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json().destination).toBe('M•••@example.com');
    expect(await outboxMessages(t, `${local}@example.com`)).toHaveLength(1);
  });

  it.each([
    ['empty', ''],
    ['no @', 'alice.example.com'],
    ['no local part', '@example.com'],
    ['no dot in the domain', 'alice@localhost'],
    ['a space', 'alice smith@example.com'],
    ['two @', 'alice@@example.com'],
    ['a control character', 'alice\u0007@example.com'],
    ['a number', 42],
    ['longer than an address can be', `${'a'.repeat(330)}@example.com`],
  ])('an invalid address (%s) is 400 invalid_request pointing at #/email, nothing sent', async (_name, email) => {
    const user = await signUp(t);
    const response = await postJson(t.app, '/v1/factors', { type: 'email', email }, bearer(user.accessToken));
    const body = expectProblem(response, 400, 'invalid_request');
    expect(body['errors']).toEqual([expect.objectContaining({ pointer: '#/email' })]);
    expect(await t.ctx.db.selectFrom('challenges').select('id').where('user_id', '=', user.userId).execute()).toEqual([]);
  });

  it('a missing address is 400 invalid_request pointing at #/email', async () => {
    const user = await signUp(t);
    const body = expectProblem(await postJson(t.app, '/v1/factors', { type: 'email' }, bearer(user.accessToken)), 400, 'invalid_request');
    expect(body['errors']).toEqual([expect.objectContaining({ pointer: '#/email' })]);
  });

  it('OB-05: e-mail alone is not a second factor — the registration mfa_token cannot make it the first (and only) factor', async () => {
    // Otherwise the sign-up completes at aal1 and that session may not add a real factor (403),
    // while the mfa_token path is closed because a factor is active: e-mail would be the account's
    // only second factor, with recovery codes minted on the strength of a mailbox.
    const user = await registerUser(t);
    const email = uniqueEmail();
    expectForbidden(await enrollDestination(t, user.mfaToken, { type: 'email', email }));
    expect(await outboxMessages(t, email)).toHaveLength(0);
  });
});

describe('e-mail at login', () => {
  it('the login lists the e-mail factor with the masked address; the code gives tokens with amr [pwd, email] and acr aal1', async () => {
    const user = await emailUser(uniqueEmail('bob'));
    t.clock.advanceSeconds(31);
    const login = await startOtpLogin(t, user, user.emailFactorId, user.email);
    expect(login.login['factors']).toEqual(
      expect.arrayContaining([
        { id: user.factorId, type: 'totp', label: null, destination: null },
        { id: user.emailFactorId, type: 'email', label: null, destination: 'b•••@example.com' },
      ]),
    );
    expect(JSON.stringify(login.login)).not.toContain(user.email);
    expect(login.challenge).toMatchObject({ expires_in: 300, destination: 'b•••@example.com' });
    const [message] = await outboxMessages(t, user.email);
    expect(message).toMatchObject({ channel: 'email', purpose: 'login' });

    const response = await verify(login.mfaToken, { factor_id: user.emailFactorId, challenge_id: login.challengeId, code: login.code });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.body).not.toContain(login.code);
    const claims = decodeJwt(response.json().access_token);
    expect(claims.amr).toEqual(['pwd', 'email']);
    expect(claims.amr).not.toContain('mfa');
    expect(claims.amr).not.toContain('otp');
    expect(claims.acr).toBe('aal1');
    expect(claims.sub).toBe(user.userId);
  });

  it('a refresh keeps the session at aal1 with amr [pwd, email] (SS-04)', async () => {
    const user = await emailUser();
    const session = await emailSession(user);
    const refreshed = await postJson(t.app, '/v1/token/refresh', { refresh_token: session.refreshToken });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(decodeJwt(refreshed.json().access_token)).toMatchObject({ acr: 'aal1', amr: ['pwd', 'email'] });
  });

  it('the same code rules as SMS: a wrong code is counted, a resend kills the old code, a used code is dead', async () => {
    const user = await emailUser();
    t.clock.advanceSeconds(31);
    const login = await startOtpLogin(t, user, user.emailFactorId, user.email);
    const wrong = expectProblem(await verify(login.mfaToken, { challenge_id: login.challengeId, code: wrongCode(login.code) }), 401, 'invalid_code');
    expect(wrong['attempts_remaining']).toBe(4);
    t.clock.advanceSeconds(31);
    const resent = (await requestCode(t, login.mfaToken, user.emailFactorId)).json();
    const newCode = await lastSentCode(t, user.email);
    expectProblem(await verify(login.mfaToken, { challenge_id: login.challengeId, code: login.code }), 401, 'invalid_code');
    expect((await verify(login.mfaToken, { challenge_id: resent.challenge_id, code: newCode })).statusCode).toBe(200);
    const again = await loginForMfaToken(t, user);
    expectProblem(await verify(again, { challenge_id: resent.challenge_id, code: newCode }), 401, 'invalid_code');
  });

  it("another user's e-mail challenge and code are refused", async () => {
    const victim = await emailUser();
    const attacker = await emailUser();
    t.clock.advanceSeconds(31);
    const victimLogin = await startOtpLogin(t, victim, victim.emailFactorId, victim.email);
    const attackerToken = await loginForMfaToken(t, attacker);
    expectProblem(await verify(attackerToken, { challenge_id: victimLogin.challengeId, code: victimLogin.code }), 401, 'invalid_code');
    expectProblem(await requestCode(t, attackerToken, victim.emailFactorId), 404, 'not_found');
    expect((await verify(victimLogin.mfaToken, { challenge_id: victimLogin.challengeId, code: victimLogin.code })).statusCode).toBe(200);
  });

  it('an expired confirmation code is refused (5 minutes)', async () => {
    const user = await signUp(t);
    const email = uniqueEmail();
    const enrollment = (await enrollDestination(t, user.accessToken, { type: 'email', email })).json();
    const code = await lastSentCode(t, email);
    t.clock.advanceSeconds(5 * 60 + 1);
    // The session must be recent to confirm (as to start); once it is again, the code is still dead.
    expectProblem(await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code, challenge_id: enrollment.challenge_id }, bearer(user.accessToken)), 401, 'insufficient_authentication');
    const stepUp = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(user.accessToken));
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    expectProblem(await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code, challenge_id: enrollment.challenge_id }, bearer(stepUp.json().access_token)), 401, 'invalid_code');
  });
});

describe('OB-05: an e-mail session is aal1 and has limits', () => {
  it('it cannot add a factor (POST /v1/factors → 403)', async () => {
    const user = await emailUser();
    const session = await emailSession(user);
    expectForbidden(await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(session.accessToken)));
    expectForbidden(await postJson(t.app, '/v1/factors', { type: 'email', email: uniqueEmail() }, bearer(session.accessToken)));
  });

  it('it cannot remove a factor (DELETE /v1/factors/{id} → 403), neither the app nor the address; both still work', async () => {
    const user = await emailUser();
    const session = await emailSession(user);
    expectForbidden(await del(`/v1/factors/${user.factorId}`, session.accessToken));
    expectForbidden(await del(`/v1/factors/${user.emailFactorId}`, session.accessToken));
    const active = await t.ctx.db.selectFrom('factors').select('id').where('user_id', '=', user.userId).where('status', '=', 'active').execute();
    expect(active.map((row) => row.id).sort()).toEqual([user.factorId, user.emailFactorId].sort());
  });

  it('it cannot issue new recovery codes (POST /v1/recovery-codes → 403)', async () => {
    const user = await emailUser();
    const session = await emailSession(user);
    expectForbidden(await postJson(t.app, '/v1/recovery-codes', {}, bearer(session.accessToken)));
  });

  it('an e-mail code cannot step it up (POST /v1/mfa/verify with the access token → 403)', async () => {
    const user = await emailUser();
    const session = await emailSession(user);
    t.clock.advanceSeconds(31);
    const sent = await requestCode(t, session.accessToken, user.emailFactorId);
    expect(sent.statusCode, sent.body).toBe(200);
    const response = await verify(session.accessToken, { challenge_id: sent.json().challenge_id, code: await lastSentCode(t, user.email) });
    expectForbidden(response);
    expect(response.body).not.toContain('access_token');
    // Still aal1: factor management stays closed.
    expectForbidden(await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(session.accessToken)));
  });

  it('an e-mail code cannot step up an aal2 session either', async () => {
    const user = await emailUser();
    t.clock.advanceSeconds(31);
    const sent = await requestCode(t, user.accessToken, user.emailFactorId);
    expect(sent.statusCode, sent.body).toBe(200);
    expectForbidden(await verify(user.accessToken, { challenge_id: sent.json().challenge_id, code: await lastSentCode(t, user.email) }));
  });

  it('a step-up with the authenticator app lifts it to aal2, and then it may manage factors', async () => {
    const user = await emailUser();
    const session = await emailSession(user);
    t.clock.advanceSeconds(30);
    const stepUp = await verify(session.accessToken, { code: totpCode(t, user.secret) });
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    const accessToken = stepUp.json().access_token;
    expect(decodeJwt(accessToken)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    expect((await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(accessToken))).statusCode).toBe(201);
  });
});

describe('e-mail is off by default', () => {
  it('enrolling an address is 403 forbidden — with an access token or the registration mfa_token — and nothing is sent', async () => {
    const user = await signUp(plain);
    const email = uniqueEmail();
    expectForbidden(await enrollDestination(plain, user.accessToken, { type: 'email', email }));
    const registered = await registerUser(plain);
    expectForbidden(await enrollDestination(plain, registered.mfaToken, { type: 'email', email }));
    expect(await outboxMessages(plain, email)).toHaveLength(0);
  });
});

describe('FL-09: no e-mail code in any response', () => {
  it('enrollment, confirmation, login, resend and verify responses never carry a code sent', async () => {
    const bodies: string[] = [];
    const keep = (response: LightMyRequestResponse) => (bodies.push(`${JSON.stringify(response.headers)}\n${response.body}`), response);
    const user = await signUp(t);
    const email = uniqueEmail();
    const enrollment = keep(await enrollDestination(t, user.accessToken, { type: 'email', email })).json();
    const enrollCode = await lastSentCode(t, email);
    keep(await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: wrongCode(enrollCode) }, bearer(user.accessToken)));
    keep(await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: enrollCode }, bearer(user.accessToken)));
    t.clock.advanceSeconds(31);
    const login = keep(await postJson(t.app, '/v1/login', { username: user.username, password: user.password })).json();
    const first = keep(await requestCode(t, login.mfa_token, enrollment.factor_id)).json();
    keep(await requestCode(t, login.mfa_token, enrollment.factor_id)); // too soon
    t.clock.advanceSeconds(31);
    const second = keep(await requestCode(t, login.mfa_token, enrollment.factor_id)).json();
    const codes = (await outboxMessages(t, email)).map((message) => /\b(\d{6})\b/.exec(message.body)![1]!);
    keep(await verify(login.mfa_token, { challenge_id: first.challenge_id, code: codes[1]! }));
    keep(await verify(login.mfa_token, { challenge_id: second.challenge_id, code: codes[0]! }));
    expect(codes).toHaveLength(3);
    for (const code of codes) for (const body of bodies) expect(containsCode(body, code), `code ${code} in:\n${body}`).toBe(false);
  });
});
