// RC-03: a login started before the credentials changed does not finish after. Someone who knew
// the old password (or held a removed factor) starts a login and waits at the second-factor step;
// the owner changes the password, resets it, signs out everywhere, removes the factor, or an
// administrator resets the factors. The waiting mfa_token must then be refused — also with a
// recovery code, also when its password step was still running as the change committed, and also
// when 20 second-factor proofs race the change. On SQLite and on PostgreSQL + Redis.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetFactors } from '../../src/flows/account/admin.js';
import { insertPendingSession, mintMfaTokenFor } from '../../src/flows/sessions/pending-session.js';
import { findUserById } from '../../src/store/repositories/users.js';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, registerUser, totpCode, uniqueUsername } from '../helpers/flow.js';
import { lastResetCode, verifyAddress } from '../helpers/outbox.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const newPassword = 'a completely new passphrase';
const verify = (token: string, body: Record<string, unknown>) => postJson(t.app, '/v1/mfa/verify', body, bearer(token));

interface Account {
  username: string;
  password: string;
  userId: string;
  email: string;
  secret: string;
  factorId: string;
  /** A second authenticator app, so that one factor can be removed. */
  secondFactorId: string;
  accessToken: string;
  refreshToken: string;
  recoveryCodes: string[];
}

/** Signed up with an app and an address (where reset codes go), plus a second app; a fresh session. */
async function account(): Promise<Account> {
  const email = `${uniqueUsername('rc03')}@example.com`;
  const registered = await registerUser(t, { email });
  // Reset codes go only to a proven address.
  await verifyAddress(t, email);
  const confirm = await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
  expect(confirm.statusCode, confirm.body).toBe(200);
  const { access_token: accessToken, refresh_token: refreshToken, recovery_codes: recoveryCodes } = confirm.json();
  const second = (await postJson(t.app, '/v1/factors', { type: 'totp', label: 'second' }, bearer(accessToken))).json();
  const added = await postJson(t.app, `/v1/factors/${second.factor_id}/verify`, { code: totpCode(t, second.secret) }, bearer(accessToken));
  expect(added.statusCode, added.body).toBe(200);
  return { ...registered, email, secondFactorId: second.factor_id, accessToken, refreshToken, recoveryCodes };
}

/** Refused as a dead login: 401 invalid_token, and nothing in the body that could be used. */
function expectDeadLogin(response: LightMyRequestResponse): void {
  expectProblem(response, 401, 'invalid_token');
  expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  expect(response.body).not.toMatch(/"(access_token|refresh_token|recovery_codes|device_token)"/);
}

async function sessionsOf(userId: string) {
  return t.ctx.db.selectFrom('sessions').select(['id', 'state', 'revoke_reason', 'auth_time']).where('user_id', '=', userId).execute();
}

async function usedRecoveryCodes(userId: string): Promise<number> {
  return (await t.ctx.db.selectFrom('recovery_codes').select('id').where('user_id', '=', userId).where('used_at', 'is not', null).execute()).length;
}

interface CredentialChange {
  name: string;
  reason: string;
  /** Makes the change; returns the password that works afterwards. */
  make(user: Account): Promise<string>;
  /** Whether the session that made the change (the account's own) goes on. */
  keepsOwnSession: boolean;
  /** What a new login with the working password must do next. */
  next: 'verify' | 'enroll';
}

const changes: CredentialChange[] = [
  {
    name: 'a password change',
    reason: 'password_changed',
    keepsOwnSession: true,
    next: 'verify',
    async make(user) {
      const response = await postJson(t.app, '/v1/password', { current_password: user.password, new_password: newPassword }, bearer(user.accessToken));
      expect(response.statusCode, response.body).toBe(204);
      return newPassword;
    },
  },
  {
    name: 'a password reset',
    reason: 'password_reset',
    keepsOwnSession: false,
    next: 'verify',
    async make(user) {
      expect((await postJson(t.app, '/v1/password/forgot', { username: user.username })).statusCode).toBe(202);
      const response = await postJson(t.app, '/v1/password/reset', { username: user.username, code: await lastResetCode(t, user.email), new_password: newPassword });
      expect(response.statusCode, response.body).toBe(204);
      return newPassword;
    },
  },
  {
    name: 'signing out everywhere',
    reason: 'revoked_by_user',
    keepsOwnSession: true,
    next: 'verify',
    async make(user) {
      const response = await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(user.accessToken) });
      expect(response.statusCode, response.body).toBe(200);
      return user.password;
    },
  },
  {
    name: 'removing a factor',
    reason: 'factor_removed',
    keepsOwnSession: true,
    next: 'verify',
    async make(user) {
      const response = await t.app.inject({ method: 'DELETE', url: `/v1/factors/${user.secondFactorId}`, headers: bearer(user.accessToken) });
      expect(response.statusCode, response.body).toBe(204);
      return user.password;
    },
  },
  {
    name: 'an administrator’s factor reset',
    reason: 'admin_factor_reset',
    keepsOwnSession: false,
    next: 'enroll',
    async make(user) {
      await resetFactors(t.ctx, user.username, 'rc-03 test');
      return user.password;
    },
  },
];

describe('RC-03: a login waiting for its second factor ends when the credentials change', () => {
  for (const change of changes) {
    it(`RC-03: an mfa_token from before ${change.name}, with a recovery code or an app code → 401 invalid_token, no tokens`, async () => {
      const user = await account();
      // Someone with the (old) password is at the second-factor step, twice.
      const withRecoveryCode = await loginForMfaToken(t, user);
      const withAppCode = await loginForMfaToken(t, user);
      const password = await change.make(user);

      expectDeadLogin(await verify(withRecoveryCode, { recovery_code: user.recoveryCodes[0] }));
      t.clock.advanceSeconds(30);
      expectDeadLogin(await verify(withAppCode, { code: totpCode(t, user.secret) }));
      // Nothing was spent on the dead logins: no recovery code, no TOTP step.
      expect(await usedRecoveryCodes(user.userId)).toBe(0);

      const sessions = await sessionsOf(user.userId);
      for (const sessionId of [withRecoveryCode, withAppCode].map((token) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid as string)) {
        expect(sessions.find((session) => session.id === sessionId)).toMatchObject({ state: 'revoked', revoke_reason: change.reason, auth_time: null });
      }
      const live = sessions.filter((session) => session.state !== 'revoked');
      expect(live).toHaveLength(change.keepsOwnSession ? 1 : 0);
      if (change.keepsOwnSession) expect((await getJson(t.app, '/v1/me', bearer(user.accessToken))).statusCode).toBe(200);

      // The account itself is fine: a login started now, with the password that works now, goes on.
      const login = await postJson(t.app, '/v1/login', { username: user.username, password });
      expect(login.statusCode, login.body).toBe(200);
      expect(login.json().next).toBe(change.next);
      if (change.next === 'verify') {
        t.clock.advanceSeconds(30);
        const fresh = await verify(login.json().mfa_token, { code: totpCode(t, user.secret) });
        expect(fresh.statusCode, fresh.body).toBe(200);
      }
    });
  }

  it('RC-03: a login whose password step was still running when the password changed (not yet there to be ended) is refused', async () => {
    const user = await account();
    const before = await findUserById(t.ctx.db, user.userId);
    await changes[0]!.make(user);
    // What such a login leaves behind: a pending session created after the change ended the pending
    // ones, carrying the credentials its password check read — the old ones.
    const start = await insertPendingSession(t.ctx, t.ctx.db, { id: user.userId, credentials_changed_at: before!.credentials_changed_at }, {});
    const mfaToken = await mintMfaTokenFor(t.ctx, user.userId, start);
    expectDeadLogin(await verify(mfaToken, { recovery_code: user.recoveryCodes[0] }));
    expect(await usedRecoveryCodes(user.userId)).toBe(0);
    expect((await sessionsOf(user.userId)).find((session) => session.id === start.sessionId)).toMatchObject({ state: 'revoked', revoke_reason: 'credentials_changed' });
  });

  it('RC-03: 20 logins with the old password racing its change — no mfa_token obtained with it finishes a login afterwards', async () => {
    const user = await account();
    const [change, ...logins] = await Promise.all([
      postJson(t.app, '/v1/password', { current_password: user.password, new_password: newPassword }, bearer(user.accessToken)),
      ...Array.from({ length: 20 }, () => postJson(t.app, '/v1/login', { username: user.username, password: user.password })),
    ]);
    expect(change!.statusCode, change!.body).toBe(204);
    // Each login either lost to the change (the old password no longer works) or got an mfa_token.
    for (const login of logins) expect([200, 401], login.body).toContain(login.statusCode);
    const mfaTokens = logins.filter((login) => login.statusCode === 200).map((login) => login.json().mfa_token as string);
    const results = await Promise.all(mfaTokens.map((token, i) => verify(token, { recovery_code: user.recoveryCodes[i % 10] })));
    for (const result of results) expectDeadLogin(result);
    expect(await usedRecoveryCodes(user.userId)).toBe(0);
    expect((await sessionsOf(user.userId)).filter((session) => session.state !== 'revoked').map((session) => session.id)).toHaveLength(1);
  });

  it('RC-03: 20 second-factor proofs racing a password change — no session signed in under the old password outlives the change', async () => {
    const user = await account();
    t.clock.advanceSeconds(30);
    const mfaTokens = await Promise.all(Array.from({ length: 20 }, () => loginForMfaToken(t, user)));
    // Ten recovery codes and the app's codes for the steps around now: many proofs that can win.
    const proofs = mfaTokens.map((_, i) => (i % 2 === 0 ? { recovery_code: user.recoveryCodes[i / 2] } : { code: totpCode(t, user.secret, (i % 3) - 1) }));
    const racing = mfaTokens.slice(0, 10).map((token, i) => verify(token, proofs[i]!));
    const change = await postJson(t.app, '/v1/password', { current_password: user.password, new_password: newPassword }, bearer(user.accessToken));
    expect(change.statusCode, change.body).toBe(204);
    // Those still in flight, and those sent once the change has answered.
    const late = await Promise.all(mfaTokens.slice(10).map((token, i) => verify(token, proofs[10 + i]!)));
    const early = await Promise.all(racing);
    for (const response of late) expectDeadLogin(response);

    const winners = early.filter((response) => response.statusCode === 200).map((response) => response.json());
    for (const response of early) if (response.statusCode !== 200) expect([401], response.body).toContain(response.statusCode);
    // Whatever finished before the change was ended by it: its tokens are refused.
    for (const tokens of winners) {
      expectProblem(await getJson(t.app, '/v1/me', bearer(tokens.access_token)), 401, 'invalid_token');
      expectProblem(await postJson(t.app, '/v1/token/refresh', { refresh_token: tokens.refresh_token }), 401, 'invalid_token');
    }
    // The only session left is the one that changed the password; no login is still pending.
    const live = (await sessionsOf(user.userId)).filter((session) => session.state !== 'revoked');
    expect(live).toHaveLength(1);
    expect((await getJson(t.app, '/v1/me', bearer(user.accessToken))).statusCode).toBe(200);
    // A loser spent nothing: only the winners' recovery codes are used.
    const recoveryWinners = early.filter((response, i) => response.statusCode === 200 && i % 2 === 0).length;
    expect(await usedRecoveryCodes(user.userId)).toBe(recoveryWinners);
  });
});

describe('RC-03: other things started under the old credentials end with them', () => {
  it('RC-03: a password-reset code asked for before a password change no longer resets the password', async () => {
    const user = await account();
    expect((await postJson(t.app, '/v1/password/forgot', { username: user.username })).statusCode).toBe(202);
    const code = await lastResetCode(t, user.email);
    await changes[0]!.make(user);
    expectProblem(await postJson(t.app, '/v1/password/reset', { username: user.username, code, new_password: 'yet another new passphrase' }), 401, 'invalid_code');
    expect((await postJson(t.app, '/v1/login', { username: user.username, password: newPassword })).statusCode).toBe(200);
  });

  it('RC-03: browsers remembered by logins racing a password change do not outlive it', async () => {
    const user = await account();
    t.clock.advanceSeconds(30);
    const mfaTokens = await Promise.all(Array.from({ length: 10 }, () => loginForMfaToken(t, user)));
    const [change, ...logins] = await Promise.all([
      postJson(t.app, '/v1/password', { current_password: user.password, new_password: newPassword }, bearer(user.accessToken)),
      ...mfaTokens.map((token, i) => verify(token, { recovery_code: user.recoveryCodes[i], remember_device: true })),
    ]);
    expect(change!.statusCode, change!.body).toBe(204);
    const deviceTokens = logins.filter((login) => login.statusCode === 200).map((login) => login.json().device_token as string);
    // Whichever logins finished before the change, the browsers they remembered were forgotten with it.
    const live = await t.ctx.db.selectFrom('trusted_devices').select('id').where('user_id', '=', user.userId).where('revoked_at', 'is', null).execute();
    expect(live).toEqual([]);
    for (const deviceToken of deviceTokens) {
      const response = await verify(await loginForMfaToken(t, { username: user.username, password: newPassword }), { device_token: deviceToken });
      expectProblem(response, 401, 'invalid_code');
    }
  });

  it('RC-03: a remembered browser cannot finish a login started before the password changed', async () => {
    const user = await account();
    t.clock.advanceSeconds(30);
    const remembered = await verify(await loginForMfaToken(t, user), { code: totpCode(t, user.secret), remember_device: true });
    expect(remembered.statusCode, remembered.body).toBe(200);
    const waiting = await loginForMfaToken(t, user);
    await changes[0]!.make(user);
    expectDeadLogin(await verify(waiting, { device_token: remembered.json().device_token }));
  });
});
