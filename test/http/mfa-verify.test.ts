// POST /v1/mfa/verify: TOTP within T-1..T+1, every code once, the mfa_token
// once and for at most 5 tries, recovery codes once — also under concurrency.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, signUp, totpCode } from '../helpers/flow.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const verify = (mfaToken: string, body: Record<string, unknown>) => postJson(t.app, '/v1/mfa/verify', body, bearer(mfaToken));

async function freshUserAndLogin() {
  const user = await signUp(t);
  t.clock.advanceSeconds(60); // the confirmation code claimed its step; T-1 must be unused too
  return { user, mfaToken: await loginForMfaToken(t, user) };
}

describe('TOTP at /v1/mfa/verify', () => {
  it('OT-03: accepts steps T-1, T and T+1 and refuses T-2 and T+2', async () => {
    const accepted: Record<number, number> = {};
    for (const offset of [-2, -1, 0, 1, 2]) {
      const { user, mfaToken } = await freshUserAndLogin();
      accepted[offset] = (await verify(mfaToken, { code: totpCode(t, user.secret, offset) })).statusCode;
    }
    expect(accepted).toEqual({ '-2': 401, '-1': 200, '0': 200, '1': 200, '2': 401 });
  });

  it('JW-11: the access token says acr aal2, amr [pwd, otp, mfa] and auth_time = the verification time', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    const response = await verify(mfaToken, { code: totpCode(t, user.secret) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(Object.keys(response.json()).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    const claims = decodeJwt(response.json().access_token);
    expect(claims).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'], sub: user.userId, auth_time: Math.floor(t.clock.now() / 1000) });
  });

  it('OT-04: a code works once — a second login with the same code is refused as invalid_code', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    const code = totpCode(t, user.secret);
    expect((await verify(mfaToken, { code })).statusCode).toBe(200);
    const again = await loginForMfaToken(t, user);
    expectProblem(await verify(again, { code }), 401, 'invalid_code');
    expect(t.events.some((event) => event.type === 'mfa.replay_rejected' && event.userId === user.userId)).toBe(true);
  });

  it('OT-04: an earlier step is refused once a later one was used', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    expect((await verify(mfaToken, { code: totpCode(t, user.secret, 1) })).statusCode).toBe(200);
    expectProblem(await verify(await loginForMfaToken(t, user), { code: totpCode(t, user.secret, 0) }), 401, 'invalid_code');
  });

  it('OT-04: the enrollment confirmation code cannot be used again to log in', async () => {
    const user = await signUp(t); // confirmed with the code of the current step
    const mfaToken = await loginForMfaToken(t, user);
    expectProblem(await verify(mfaToken, { code: totpCode(t, user.secret) }), 401, 'invalid_code');
  });

  it('OT-04: one code sent to 30 pending logins of the same user at once — exactly one succeeds', async () => {
    const user = await signUp(t);
    t.clock.advanceSeconds(30);
    const mfaTokens = await Promise.all(Array.from({ length: 30 }, () => loginForMfaToken(t, user)));
    const code = totpCode(t, user.secret);
    const statuses = (await Promise.all(mfaTokens.map((token) => verify(token, { code })))).map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(29);
  });

  it('accepts a factor_id of the user, and answers 404 for a factor of someone else (FL-04)', async () => {
    const victim = await signUp(t);
    const { user, mfaToken } = await freshUserAndLogin();
    expectProblem(await verify(mfaToken, { factor_id: victim.factorId, code: totpCode(t, victim.secret) }), 404, 'not_found');
    expect((await verify(mfaToken, { factor_id: user.factorId, code: totpCode(t, user.secret) })).statusCode).toBe(200);
  });

  it('needs exactly one of code and recovery_code', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    expectProblem(await verify(mfaToken, {}), 400, 'invalid_request');
    expectProblem(await verify(mfaToken, { code: totpCode(t, user.secret), recovery_code: user.recoveryCodes[0] }), 400, 'invalid_request');
  });
});

describe('the mfa_token', () => {
  it('FL-03: is single-use — a second verify with the same token fails', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    expect((await verify(mfaToken, { code: totpCode(t, user.secret) })).statusCode).toBe(200);
    expectProblem(await verify(mfaToken, { code: totpCode(t, user.secret, 1) }), 401, 'invalid_token');
  });

  it('FL-03: is single-use under 20 concurrent verifies — exactly one success', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    const codes = [totpCode(t, user.secret, -1), totpCode(t, user.secret, 0), totpCode(t, user.secret, 1)];
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => verify(mfaToken, { code: codes[i % 3] })));
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.every((s) => s === 200 || s === 401)).toBe(true);
    const sessions = await t.ctx.db.selectFrom('sessions').selectAll().where('user_id', '=', user.userId).where('state', '=', 'active').execute();
    expect(sessions).toHaveLength(2); // the sign-up session and this login
  });

  it('FL-03: lives 5 minutes', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    t.clock.advanceSeconds(300 + 61);
    expectProblem(await verify(mfaToken, { code: totpCode(t, user.secret) }), 401, 'invalid_token');
  });

  it('FL-05: dies after 5 wrong codes — the 6th try fails even with the right code', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    const remaining: unknown[] = [];
    for (let i = 0; i < 5; i += 1) remaining.push(expectProblem(await verify(mfaToken, { code: '000000' === totpCode(t, user.secret) ? '111111' : '000000' }), 401, 'invalid_code')['attempts_remaining']);
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    expectProblem(await verify(mfaToken, { code: totpCode(t, user.secret) }), 401, 'invalid_token');
    expect(t.events.some((event) => event.type === 'mfa.attempts_exhausted' && event.userId === user.userId)).toBe(true);
  });

  it('FL-05: 200 parallel guesses evaluate at most 5', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    const before = (await t.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow()).failed_attempts;
    const guesses = Array.from({ length: 200 }, (_, i) => String(100000 + i));
    const responses = await Promise.all(guesses.map((code) => verify(mfaToken, { code })));
    expect(responses.every((r) => r.statusCode === 401)).toBe(true);
    const evaluated = responses.filter((r) => r.json().code === 'invalid_code').length;
    expect(evaluated).toBeLessThanOrEqual(5);
    const after = (await t.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow()).failed_attempts;
    expect(after - before).toBe(evaluated);
  });

  it('FL-05: failures also count per account and survive a new login', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    for (let i = 0; i < 3; i += 1) await verify(mfaToken, { code: '000001' });
    const second = await loginForMfaToken(t, user);
    for (let i = 0; i < 2; i += 1) await verify(second, { code: '000001' });
    const row = await t.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow();
    expect(row.failed_attempts).toBe(5);
    expect((await verify(second, { code: totpCode(t, user.secret) })).statusCode).toBe(200);
    const reset = await t.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow();
    expect(reset.failed_attempts).toBe(0);
  });

  it('FL-07: codes that cannot be codes are refused with 400 before an attempt is spent', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    // More of them than the token has attempts: none is counted, against the token or the account.
    for (const code of ['', '   ', '١٢٣٤٥٦', '12345', '1234567', '12a456', 'a1b2c3d4e5f6']) {
      expect(expectProblem(await verify(mfaToken, { code }), 400, 'invalid_request')['errors']).toEqual([{ pointer: '#/code', detail: expect.any(String) }]);
    }
    const row = await t.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow();
    expect(row.failed_attempts).toBe(0);
    expect((await verify(mfaToken, { code: totpCode(t, user.secret) })).statusCode).toBe(200);
  });

  it('FL-07: a code typed "123 456" or pasted with its line is the code', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    const code = totpCode(t, user.secret);
    expect((await verify(mfaToken, { code: `Your code: ${code.slice(0, 3)}\u00a0${code.slice(3)}\n` })).statusCode).toBe(200);
  });
});

describe('recovery codes at /v1/mfa/verify', () => {
  it('RC-02: a recovery code logs in once, with amr [pwd, rc, mfa]; the second use fails', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    const response = await verify(mfaToken, { recovery_code: user.recoveryCodes[0] });
    expect(response.statusCode, response.body).toBe(200);
    expect(decodeJwt(response.json().access_token)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'rc', 'mfa'] });
    expectProblem(await verify(await loginForMfaToken(t, user), { recovery_code: user.recoveryCodes[0] }), 401, 'invalid_code');
    const me = await getJson(t.app, '/v1/me', bearer(response.json().access_token));
    expect(me.json().recovery_codes_remaining).toBe(9);
    expect(t.events.some((event) => event.type === 'recovery_code.used' && event.userId === user.userId)).toBe(true);
  });

  it('reads codes as people type them: lower case, without dashes, with spaces', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    const typed = user.recoveryCodes[1]!.toLowerCase().replace(/-/g, ' ');
    expect((await verify(mfaToken, { recovery_code: typed })).statusCode).toBe(200);
  });

  it('RC-02: one recovery code raced by 30 logins — exactly one succeeds', async () => {
    const user = await signUp(t);
    const mfaTokens = await Promise.all(Array.from({ length: 30 }, () => loginForMfaToken(t, user)));
    const statuses = (await Promise.all(mfaTokens.map((token) => verify(token, { recovery_code: user.recoveryCodes[2] })))).map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  });

  it('RC-04: a wrong recovery code counts toward the token and account limits; one that cannot be a recovery code is refused before', async () => {
    const { user, mfaToken } = await freshUserAndLogin();
    expectProblem(await verify(mfaToken, { recovery_code: 'AAAAA-AAAAA-AAAAA-AAAAA' }), 401, 'invalid_code');
    expectProblem(await verify(mfaToken, { recovery_code: 'not a code' }), 400, 'invalid_request');
    const row = await t.ctx.db.selectFrom('users').select('failed_attempts').where('id', '=', user.userId).executeTakeFirstOrThrow();
    expect(row.failed_attempts).toBe(1);
  });

  it("RC-02: another user's recovery code does not work", async () => {
    const other = await signUp(t);
    const { mfaToken } = await freshUserAndLogin();
    expectProblem(await verify(mfaToken, { recovery_code: other.recoveryCodes[0] }), 401, 'invalid_code');
  });

  it('RC-03: recovery codes are stored only as HMACs', async () => {
    const user = await signUp(t);
    const rows = await t.ctx.db.selectFrom('recovery_codes').selectAll().where('user_id', '=', user.userId).execute();
    expect(rows).toHaveLength(10);
    for (const code of user.recoveryCodes) {
      expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
      for (const row of rows) expect(row.code_hash).not.toContain(code.replace(/-/g, ''));
    }
  });
});
