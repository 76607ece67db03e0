// Concurrency races on every single-use secret (OT-04, OB-02, WA-01,
// RC-02, SS-02, FL-03, MG-02, OT-07/WA-06, MG-05): ~20 requests carrying the same secret at the same
// moment — on SQLite and, in the "postgres" project, on PostgreSQL + Redis — and exactly one of
// them wins (for refresh tokens: one rotation, whose answer the others get again within the reuse
// grace, SS-02). Where a secret is claimed in a transaction with
// something else (a recovery code with the login it completes), the losers leave nothing behind.
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, registerUser, signIn, signUp, totpCode, uniqueUsername } from '../helpers/flow.js';
import { lastSentCode, outboxMessages, verifyAddress } from '../helpers/outbox.js';
import { enrollDestination, smsSignUp, startOtpLogin, uniquePhone } from '../helpers/otp.js';
import { createSoftAuthenticator, type SoftAuthenticatorOptions } from '../helpers/soft-authenticator.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const racers = 20;
const verify = (token: string, body: Record<string, unknown>) => postJson(t.app, '/v1/mfa/verify', body, bearer(token));
const statuses = (responses: LightMyRequestResponse[]) => responses.map((response) => response.statusCode);
const winners = (responses: LightMyRequestResponse[]) => responses.filter((response) => response.statusCode >= 200 && response.statusCode < 300);

/** No loser answered 5xx, and every loser is a problem document with one of the expected statuses. */
function expectLosers(responses: LightMyRequestResponse[], allowed: number[]): void {
  for (const response of responses) {
    if (response.statusCode < 300) continue;
    expect(allowed, `${response.statusCode} ${response.body}`).toContain(response.statusCode);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).not.toMatch(/"(access_token|refresh_token|recovery_codes)"/);
  }
}

async function activeSessionsOf(userId: string) {
  return t.ctx.db.selectFrom('sessions').select(['id', 'amr']).where('user_id', '=', userId).where('state', '=', 'active').execute();
}

async function unusedRecoveryCodes(userId: string): Promise<number> {
  return (await t.ctx.db.selectFrom('recovery_codes').select('id').where('user_id', '=', userId).where('used_at', 'is', null).execute()).length;
}

// ---------------------------------------------------------------------------------------------

describe('OT-04: a TOTP code', () => {
  it('one code on 20 pending logins of the same user at once — exactly one succeeds', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(30);
    const mfaTokens = await Promise.all(Array.from({ length: racers }, () => loginForMfaToken(t, user)));
    const code = totpCode(t, user.secret);
    const responses = await Promise.all(mfaTokens.map((token) => verify(token, { code })));
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    expectLosers(responses, [401]);
    expect(await activeSessionsOf(user.userId)).toHaveLength(2); // the sign-up and the winner
  });
});

describe('OB-02: an SMS code answering one challenge', () => {
  it('20 verifies of the same challenge and code on one mfa_token — exactly one succeeds', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(30); // one code per phone per 30 s
    const login = await startOtpLogin(t, user, user.otpFactorId, user.destination);
    const responses = await Promise.all(Array.from({ length: racers }, () => verify(login.mfaToken, { challenge_id: login.challengeId, code: login.code })));
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    expectLosers(responses, [401]);
    const challenge = await t.ctx.db.selectFrom('challenges').select(['used_at']).where('id', '=', login.challengeId).executeTakeFirstOrThrow();
    expect(challenge.used_at).not.toBeNull();
  });

  it('the same challenge and code from 20 different logins of the user at once — only its own login gets in, once', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(30); // one code per phone per 30 s
    const login = await startOtpLogin(t, user, user.otpFactorId, user.destination);
    const others = await Promise.all(Array.from({ length: racers - 1 }, () => loginForMfaToken(t, user)));
    const tokens = [...others.slice(0, 9), login.mfaToken, ...others.slice(9)];
    const responses = await Promise.all(tokens.map((token) => verify(token, { challenge_id: login.challengeId, code: login.code })));
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    expect(responses[9]!.statusCode).toBe(200);
    expectLosers(responses, [401]);
    // Every other login is still pending: none was completed with a code that was not its own.
    const sids = others.map((token) => decodeJwt(token)['sid'] as string);
    const states = await t.ctx.db.selectFrom('sessions').select('state').where('id', 'in', sids).execute();
    expect(states.every((row) => row.state === 'pending')).toBe(true);
  });
});

describe('WA-01: a passkey assertion', () => {
  async function passkeyUser(options: SoftAuthenticatorOptions) {
    const authenticator = createSoftAuthenticator(options);
    const user = await registerUser(t);
    const enrollment = (await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.mfaToken))).json();
    const confirm = await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { credential: authenticator.register(enrollment.options), challenge_id: enrollment.challenge_id }, bearer(user.mfaToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    return { ...user, authenticator, passkeyFactorId: enrollment.factor_id as string };
  }

  async function challenge(token: string, factorId: string) {
    const response = await postJson(t.app, '/v1/mfa/challenge', { factor_id: factorId }, bearer(token));
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { challenge_id: string; options: any };
  }

  it.each([
    ['an authenticator without a counter (the challenge alone must stop the replay)', { countsSignatures: false }],
    ['an authenticator with a counter', {}],
  ] as const)('one assertion replayed 20 times at once on its login — exactly one succeeds: %s', async (_name, options) => {
    const user = await passkeyUser(options);
    const mfaToken = await loginForMfaToken(t, user);
    const issued = await challenge(mfaToken, user.passkeyFactorId);
    const assertion = user.authenticator.authenticate(issued.options);
    const responses = await Promise.all(Array.from({ length: racers }, () => verify(mfaToken, { challenge_id: issued.challenge_id, credential: assertion })));
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    expectLosers(responses, [401]);
    const sid = decodeJwt(mfaToken)['sid'];
    expect(t.events.filter((event) => event.type === 'login.completed' && event.sessionId === sid)).toHaveLength(1);
  });

  it('one assertion replayed at once by 20 logins of the user — only the login it was made for gets in, once', async () => {
    const user = await passkeyUser({ countsSignatures: false });
    const owner = await loginForMfaToken(t, user);
    const issued = await challenge(owner, user.passkeyFactorId);
    const assertion = user.authenticator.authenticate(issued.options);
    const others = await Promise.all(Array.from({ length: racers - 1 }, () => loginForMfaToken(t, user)));
    // Each other login has its own open challenge too; the stolen assertion answers none of them.
    const theirs = await Promise.all(others.map((token) => challenge(token, user.passkeyFactorId)));
    const responses = await Promise.all([
      verify(owner, { challenge_id: issued.challenge_id, credential: assertion }),
      ...others.map((token, i) => verify(token, i % 2 === 0 ? { challenge_id: issued.challenge_id, credential: assertion } : { challenge_id: theirs[i]!.challenge_id, credential: assertion })),
    ]);
    expect(statuses(responses)[0]).toBe(200);
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    expectLosers(responses, [401]);
  });
});

describe('RC-02: a recovery code', () => {
  it('the same code raced by 10 logins and 10 step-ups of other sessions — exactly one succeeds, one code is spent', async () => {
    const user = await signUp(t);
    const sessions = [];
    for (let i = 0; i < racers / 2; i += 1) sessions.push(await signIn(t, user));
    const mfaTokens = await Promise.all(Array.from({ length: racers / 2 }, () => loginForMfaToken(t, user)));
    const code = user.recoveryCodes[3]!;
    const responses = await Promise.all([
      ...mfaTokens.map((token) => verify(token, { recovery_code: code })),
      ...sessions.map((session) => verify(session.accessToken, { recovery_code: code })),
    ]);
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    expectLosers(responses, [401]);
    expect(await unusedRecoveryCodes(user.userId)).toBe(9);
    expect(t.events.filter((event) => event.type === 'recovery_code.used' && event.userId === user.userId)).toHaveLength(1);
  });
});

describe('SS-02: a refresh token', () => {
  it('raced by 10 API refreshes and 10 page loads carrying it as the refresh cookie — one rotation, all 20 answered with its pair, the family lives', async () => {
    const user = await signUp(t);
    const sid = decodeJwt(user.accessToken)['sid'] as string;
    t.clock.advanceSeconds(11 * 60); // the access token has expired: the pages must refresh
    const api = () => postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken });
    const page = () => t.app.inject({ method: 'GET', url: '/account', headers: { cookie: `__Host-twofold-refresh=${user.refreshToken}` } });
    const responses = await Promise.all(Array.from({ length: racers }, (_, i) => (i % 2 === 0 ? api() : page())));
    expect(statuses(responses)).toEqual(Array.from({ length: racers }, () => 200));
    // Every answer carries the one child: the API's bodies and the pages' cookies alike (the reuse grace).
    const apiTokens = responses.filter((_, i) => i % 2 === 0).map((response) => response.json().refresh_token as string);
    const pageTokens = responses.filter((_, i) => i % 2 === 1).map((response) => response.cookies.find((cookie) => cookie.name === '__Host-twofold-refresh')?.value);
    expect(new Set([...apiTokens, ...pageTokens]).size).toBe(1);
    const parent = await t.ctx.db.selectFrom('refresh_tokens').select('id').where('session_id', '=', sid).where('parent_id', 'is', null).executeTakeFirstOrThrow();
    expect(await t.ctx.db.selectFrom('refresh_tokens').select('id').where('parent_id', '=', parent.id).execute()).toHaveLength(1);
    expect(t.events.filter((event) => event.type === 'token.refreshed' && event.sessionId === sid)).toHaveLength(1);
    expect(t.events.filter((event) => event.type === 'token.refresh_reuse_detected' && event.sessionId === sid)).toEqual([]);
    const session = await t.ctx.db.selectFrom('sessions').select('state').where('id', '=', sid).executeTakeFirstOrThrow();
    expect(session.state).toBe('active');
    expect((await postJson(t.app, '/v1/token/refresh', { refresh_token: apiTokens[0] })).statusCode).toBe(200);
  });

  it('raced 20 times at once after its reuse grace — no winner, and the family dies', async () => {
    const user = await signUp(t);
    const sid = decodeJwt(user.accessToken)['sid'] as string;
    const child = (await postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })).json();
    t.clock.advanceSeconds(10);
    const responses = await Promise.all(Array.from({ length: racers }, () => postJson(t.app, '/v1/token/refresh', { refresh_token: user.refreshToken })));
    expect(winners(responses), String(statuses(responses))).toEqual([]);
    expectLosers(responses, [401]);
    const session = await t.ctx.db.selectFrom('sessions').select('state').where('id', '=', sid).executeTakeFirstOrThrow();
    expect(session.state).toBe('revoked');
    expectProblem(await getJson(t.app, '/v1/me', bearer(child.access_token)), 401, 'invalid_token');
    expectProblem(await postJson(t.app, '/v1/token/refresh', { refresh_token: child.refresh_token }), 401, 'invalid_token');
  });
});

describe('FL-03: an mfa_token', () => {
  it('20 verifies at once with different valid proofs (TOTP codes of T-1..T+1 and distinct recovery codes) — one login, and no loser spends its recovery code', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(60);
    const mfaToken = await loginForMfaToken(t, user);
    const bodies = Array.from({ length: racers }, (_, i) => (i % 2 === 0 ? { code: totpCode(t, user.secret, (i % 3) - 1) } : { recovery_code: user.recoveryCodes[(i - 1) / 2]! }));
    const responses = await Promise.all(bodies.map((body) => verify(mfaToken, body)));
    const won = winners(responses);
    expect(won, String(statuses(responses))).toHaveLength(1);
    expectLosers(responses, [401]);
    const winnerBody = bodies[responses.indexOf(won[0]!)]!;
    expect(await unusedRecoveryCodes(user.userId)).toBe('recovery_code' in winnerBody ? 9 : 10);
    const sessions = await activeSessionsOf(user.userId);
    expect(sessions).toHaveLength(2);
    // The TOTP factor claimed a step only if a TOTP code won.
    const factor = await t.ctx.db.selectFrom('factors').select('last_used_at').where('id', '=', user.factorId).executeTakeFirstOrThrow();
    if ('recovery_code' in winnerBody) expect(factor.last_used_at).toBeLessThan(t.clock.now());
  });
});

describe('MG-02: a password reset code', () => {
  const resetCodePattern = /\b([0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){3})\b/;

  it('20 resets at once with the same code and different new passwords — exactly one password is set', async () => {
    const email = `${uniqueUsername('race')}@example.com`;
    const user = await registerUser(t, { email });
    await verifyAddress(t, email);
    expect((await postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code: totpCode(t, user.secret) }, bearer(user.mfaToken))).statusCode).toBe(200);
    expect((await postJson(t.app, '/v1/password/forgot', { username: user.username })).statusCode).toBe(202);
    await t.ctx.background.flush(); // the code is sent after the (uniform) answer
    const message = (await outboxMessages(t, email)).find((candidate) => candidate.purpose === 'password_reset');
    const code = message === undefined ? undefined : resetCodePattern.exec(message.body)?.[1];
    expect(code, 'a reset code in the outbox').toBeDefined();

    const passwords = Array.from({ length: racers }, (_, i) => `racing passphrase number ${String.fromCharCode(97 + i)} wins`);
    const responses = await Promise.all(passwords.map((password) => postJson(t.app, '/v1/password/reset', { username: user.username, code, new_password: password })));
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    expect(winners(responses)[0]!.statusCode).toBe(204);
    expectLosers(responses, [401]);
    expect(t.events.filter((event) => event.type === 'password.reset' && event.userId === user.userId)).toHaveLength(1);

    // The winner's password is the one that works; no loser's does, nor the old one.
    const winner = passwords[responses.findIndex((response) => response.statusCode === 204)]!;
    const logins = await Promise.all([user.password, ...passwords].map((password) => postJson(t.app, '/v1/login', { username: user.username, password })));
    const working = [user.password, ...passwords].filter((_, i) => logins[i]!.statusCode === 200);
    expect(working).toEqual([winner]);
  });
});

describe('OT-07/WA-06: confirming a pending factor', () => {
  it('the first factor, confirmed 20 times at once with the registration mfa_token — one activation, one login, one set of recovery codes', async () => {
    const user = await registerUser(t);
    const code = totpCode(t, user.secret);
    const responses = await Promise.all(Array.from({ length: racers }, () => postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code }, bearer(user.mfaToken))));
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    // Losers: the code was claimed (401), the factor is already active (400), or the account now has one (403).
    expectLosers(responses, [400, 401, 403]);
    expect(winners(responses)[0]!.json().recovery_codes).toHaveLength(10);
    expect(await t.ctx.db.selectFrom('recovery_codes').select('id').where('user_id', '=', user.userId).execute()).toHaveLength(10);
    expect(await activeSessionsOf(user.userId)).toHaveLength(1);
    expect(t.events.filter((event) => event.type === 'factor.activated' && event.factorId === user.factorId)).toHaveLength(1);
  });

  it('the first factor, confirmed at once from 20 different logins of the account — only the registration that started it gets in, once', async () => {
    const user = await registerUser(t);
    const logins = await Promise.all(Array.from({ length: racers - 1 }, () => postJson(t.app, '/v1/login', { username: user.username, password: user.password })));
    for (const login of logins) expect(login.json().next).toBe('enroll');
    const tokens = [user.mfaToken, ...logins.map((login) => login.json().mfa_token as string)];
    const codes = [-1, 0, 1].map((offset) => totpCode(t, user.secret, offset));
    const responses = await Promise.all(tokens.map((token, i) => postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code: codes[i % 3] }, bearer(token))));
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    // The factor belongs to the registration's pending session (the first token); the other logins
    // are refused (403: another session's enrollment; 401: ended by the new factor, RC-03).
    expect(responses[0]!.statusCode, responses[0]!.body).toBe(200);
    expectLosers(responses, [400, 401, 403]);
    const issued = await t.ctx.db.selectFrom('recovery_codes').select('id').where('user_id', '=', user.userId).execute();
    expect(issued).toHaveLength(10);
    expect(await activeSessionsOf(user.userId)).toHaveLength(1);
    const factors = await t.ctx.db.selectFrom('factors').select(['id', 'status']).where('user_id', '=', user.userId).execute();
    expect(factors).toEqual([{ id: user.factorId, status: 'active' }]);
  });

  it('a second TOTP factor, confirmed 20 times at once with an access token — one activation', async () => {
    const user = await signUp(t);
    const enrollment = (await postJson(t.app, '/v1/factors', { type: 'totp', label: 'raced' }, bearer(user.accessToken))).json();
    const code = totpCode(t, enrollment.secret);
    const responses = await Promise.all(Array.from({ length: racers }, () => postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code }, bearer(user.accessToken))));
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    expectLosers(responses, [400, 401]);
    expect(t.events.filter((event) => event.type === 'factor.activated' && event.factorId === enrollment.factor_id)).toHaveLength(1);
    // Confirming a factor never issues recovery codes again for an enrolled account.
    expect(winners(responses)[0]!.json()).not.toHaveProperty('recovery_codes');
    expect(await unusedRecoveryCodes(user.userId)).toBe(10);
  });

  it('a passkey registration response submitted 20 times at once — one credential, one activation', async () => {
    const user = await signUp(t);
    const authenticator = createSoftAuthenticator();
    const enrollment = (await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.accessToken))).json();
    const credential = authenticator.register(enrollment.options);
    const body = { credential, challenge_id: enrollment.challenge_id };
    const responses = await Promise.all(Array.from({ length: racers }, () => postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, body, bearer(user.accessToken))));
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    expectLosers(responses, [400, 401]);
    expect(await t.ctx.db.selectFrom('webauthn_credentials').select('credential_id').where('factor_id', '=', enrollment.factor_id).execute()).toHaveLength(1);
    expect(t.events.filter((event) => event.type === 'factor.activated' && event.factorId === enrollment.factor_id)).toHaveLength(1);
  });

  it('an SMS enrollment code submitted 20 times at once — one activation', async () => {
    const user = await signUp(t);
    const phone = uniquePhone();
    const enrollment = await enrollDestination(t, user.accessToken, { type: 'sms', phone });
    expect(enrollment.statusCode, enrollment.body).toBe(201);
    const body = { code: await lastSentCode(t, phone), challenge_id: enrollment.json().challenge_id };
    const responses = await Promise.all(Array.from({ length: racers }, () => postJson(t.app, `/v1/factors/${enrollment.json().factor_id}/verify`, body, bearer(user.accessToken))));
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    expectLosers(responses, [400, 401]);
    expect(t.events.filter((event) => event.type === 'factor.activated' && event.factorId === enrollment.json().factor_id)).toHaveLength(1);
  });
});

describe('MG-05: removing the last two factors at once', () => {
  it('20 DELETEs of an account’s two factors (an app and a passkey) from two fresh sessions — exactly one goes, one stays', async () => {
    const user = await signUp(t);
    const authenticator = createSoftAuthenticator();
    const enrollment = (await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.accessToken))).json();
    const confirm = await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { credential: authenticator.register(enrollment.options), challenge_id: enrollment.challenge_id }, bearer(user.accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    const second = await signIn(t, user);
    const tokens = [user.accessToken, second.accessToken];
    const factorIds = [user.factorId, enrollment.factor_id as string];
    const responses = await Promise.all(
      Array.from({ length: racers }, (_, i) => t.app.inject({ method: 'DELETE', url: `/v1/factors/${factorIds[i % 2]}`, headers: bearer(tokens[Math.floor(i / 2) % 2]!) })),
    );
    expect(winners(responses), String(statuses(responses))).toHaveLength(1);
    // Losers: the last factor (403), already gone (404), or a session the removal just ended (401).
    expectLosers(responses, [401, 403, 404]);
    const active = await t.ctx.db.selectFrom('factors').select('id').where('user_id', '=', user.userId).where('status', '=', 'active').execute();
    expect(active).toHaveLength(1);
    // The survivor still signs in.
    const remaining = active[0]!.id;
    t.clock.advanceSeconds(30);
    const mfaToken = await loginForMfaToken(t, user);
    if (remaining === user.factorId) {
      expect((await verify(mfaToken, { code: totpCode(t, user.secret) })).statusCode).toBe(200);
    } else {
      const issued = (await postJson(t.app, '/v1/mfa/challenge', { factor_id: remaining }, bearer(mfaToken))).json();
      expect((await verify(mfaToken, { challenge_id: issued.challenge_id, credential: authenticator.authenticate(issued.options) })).statusCode).toBe(200);
    }
  });

  it('three factors, each removed 7 times at once — exactly two go', async () => {
    const user = await signUp(t);
    const extra: string[] = [];
    for (const label of ['second', 'third']) {
      const enrollment = (await postJson(t.app, '/v1/factors', { type: 'totp', label }, bearer(user.accessToken))).json();
      expect((await postJson(t.app, `/v1/factors/${enrollment.factor_id}/verify`, { code: totpCode(t, enrollment.secret) }, bearer(user.accessToken))).statusCode).toBe(200);
      extra.push(enrollment.factor_id);
    }
    const ids = [user.factorId, ...extra];
    const responses = await Promise.all(Array.from({ length: 21 }, (_, i) => t.app.inject({ method: 'DELETE', url: `/v1/factors/${ids[i % 3]}`, headers: bearer(user.accessToken) })));
    expect(winners(responses), String(statuses(responses))).toHaveLength(2);
    expectLosers(responses, [403, 404]);
    expect(await t.ctx.db.selectFrom('factors').select('id').where('user_id', '=', user.userId).where('status', '=', 'active').execute()).toHaveLength(1);
  });
});

describe('OB-03: sending codes (one per phone per 30 s)', () => {
  /**
   * Holds every request's claim of the phone's resend interval (kv.claimUntil) until all `parties`
   * have made theirs, so that none continues before the others have looked: the interleaving that
   * truly concurrent requests on several instances produce, forced so the test is deterministic.
   */
  function holdIntervalClaims(parties: number): () => void {
    const kv = t.ctx.kv;
    const original = kv.claimUntil;
    let arrived = 0;
    let release: () => void = () => undefined;
    const everyoneArrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    kv.claimUntil = async (key, now, until) => {
      const held = await original.call(kv, key, now, until);
      if (!key.startsWith('otp:interval:')) return held;
      arrived += 1;
      if (arrived === parties) release();
      await everyoneArrived;
      return held;
    };
    return () => {
      kv.claimUntil = original;
    };
  }

  it('20 accounts enrolling the same new phone at once — one code is sent, the rest are throttled', async () => {
    const users = await Promise.all(Array.from({ length: racers }, () => signUp(t)));
    const phone = uniquePhone();
    const restore = holdIntervalClaims(racers);
    try {
      const responses = await Promise.all(users.map((user) => postJson(t.app, '/v1/factors', { type: 'sms', phone }, bearer(user.accessToken))));
      expect(winners(responses), String(statuses(responses))).toHaveLength(1);
      expectLosers(responses, [429]);
    } finally {
      restore();
    }
    expect(await outboxMessages(t, phone)).toHaveLength(1);
  });

  it('once the interval has passed, 20 challenges for the phone at once — one code is sent, the rest are throttled', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(31);
    const mfaTokens = await Promise.all(Array.from({ length: racers }, () => loginForMfaToken(t, user)));
    const before = (await outboxMessages(t, user.destination)).length;
    const restore = holdIntervalClaims(racers);
    try {
      const responses = await Promise.all(mfaTokens.map((token) => postJson(t.app, '/v1/mfa/challenge', { factor_id: user.otpFactorId }, bearer(token))));
      expect(winners(responses), String(statuses(responses))).toHaveLength(1);
      expectLosers(responses, [429]);
    } finally {
      restore();
    }
    expect((await outboxMessages(t, user.destination)).length - before).toBe(1);
  });
});
