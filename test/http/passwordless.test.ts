// Going passwordless (PW-15..PW-19, WA-06): the step-up that adding a passkey needs, DELETE
// /v1/password and what it requires, a passwordless account's password login (exactly a wrong
// password), the passkeys it keeps, and the ways back to a password — the reset by e-mail, after
// which the password still needs a second factor, and a password set from a signed-in session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noPasswordHash } from '../../src/core/password/no-password.js';
import { deleteRecoveryCodesOfUser } from '../../src/store/repositories/recovery-codes.js';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, totpCode, uniqueUsername } from '../helpers/flow.js';
import { lastResetCode, outboxMessages } from '../helpers/outbox.js';
import { addPasskey, signUpWithEmail, staleAccessToken, stepUpWithApp, type AppAccount } from '../helpers/passkey-account.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold({ env: { TWOFOLD_METRICS: 'on' } });
});
afterAll(async () => t?.close());

const removePassword = (accessToken: string) => t.app.inject({ method: 'DELETE', url: '/v1/password', headers: bearer(accessToken) });
const removeFactor = (accessToken: string, factorId: string) => t.app.inject({ method: 'DELETE', url: `/v1/factors/${factorId}`, headers: bearer(accessToken) });
const login = (username: string, password: string) => postJson(t.app, '/v1/login', { username, password });
const userRow = (userId: string) => t.ctx.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
const me = async (accessToken: string) => (await getJson(t.app, '/v1/me', bearer(accessToken))).json();

/** How many password verifications (argon2, the dummy's included) this instance has run. */
async function verifyCount(): Promise<number> {
  const text = (await getJson(t.app, '/metrics')).body;
  return Number(/^twofold_password_hash_duration_seconds_count\{operation="verify"\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

/** An app account with `passkeys` passkeys; the access token is fresh again after adding them. */
async function accountWithPasskeys(passkeys: number): Promise<AppAccount & { passkeyIds: string[] }> {
  const user = await signUpWithEmail(t);
  const passkeyIds: string[] = [];
  // One device each: an authenticator holds one passkey of an account (excludeCredentials).
  for (let index = 0; index < passkeys; index += 1) passkeyIds.push(await addPasskey(t, user.accessToken, index === 0 ? user.authenticator : createSoftAuthenticator()));
  return { ...user, passkeyIds };
}

/** Gone passwordless, with a fresh access token of the session that did it. */
async function passwordlessAccount(passkeys: number) {
  const user = await accountWithPasskeys(passkeys);
  const removed = await removePassword(user.accessToken);
  expect(removed.statusCode, removed.body).toBe(204);
  return user;
}

describe('adding a passkey needs a step-up (WA-06)', () => {
  it('WA-06: an access token whose second factor is old cannot start a passkey enrollment (RFC 9470 challenge); after a step-up it can', async () => {
    const user = await signUpWithEmail(t);
    const stale = await staleAccessToken(t, user.refreshToken);
    const refused = await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(stale.accessToken));
    expectProblem(refused, 401, 'insufficient_authentication');
    expect(refused.headers['www-authenticate']).toMatch(/insufficient_user_authentication.*max_age=300/);
    const fresh = await stepUpWithApp(t, user, stale.accessToken);
    await addPasskey(t, fresh, user.authenticator);
    expect((await me(fresh)).factors.filter((factor: { type: string; status: string }) => factor.type === 'webauthn' && factor.status === 'active')).toHaveLength(1);
  });

  it('WA-06: a passkey enrollment started with a fresh token cannot be confirmed once the second factor is old', async () => {
    const user = await signUpWithEmail(t);
    const started = (await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.accessToken))).json();
    const stale = await staleAccessToken(t, user.refreshToken);
    const confirm = await postJson(t.app, `/v1/factors/${started.factor_id}/verify`, { challenge_id: started.challenge_id, credential: user.authenticator.register(started.options) }, bearer(stale.accessToken));
    expectProblem(confirm, 401, 'insufficient_authentication');
    expect((await me(stale.accessToken)).factors.some((factor: { type: string; status: string }) => factor.type === 'webauthn' && factor.status === 'active')).toBe(false);
  });

  it('WA-06/FL-01: the mfa_token of a password alone cannot add a passkey to an account that has a factor', async () => {
    const user = await signUpWithEmail(t);
    const mfaToken = await loginForMfaToken(t, user);
    expectProblem(await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(mfaToken)), 403, 'forbidden');
  });
});

describe('DELETE /v1/password (PW-15)', () => {
  it('PW-15: needs a recent second factor (RFC 9470 challenge)', async () => {
    const user = await accountWithPasskeys(2);
    const stale = await staleAccessToken(t, user.refreshToken);
    const refused = await removePassword(stale.accessToken);
    expectProblem(refused, 401, 'insufficient_authentication');
    expect(refused.headers['www-authenticate']).toMatch(/insufficient_user_authentication/);
    expect((await userRow(user.userId)).password_hash).toMatch(/^\$argon2id\$/);
  });

  it('PW-15: refused without a passkey, naming what is missing; the password stays and no session ends', async () => {
    const user = await signUpWithEmail(t);
    const other = await loginForMfaToken(t, user);
    const refused = expectProblem(await removePassword(user.accessToken), 409, 'passwordless_not_allowed');
    expect(refused).toMatchObject({ missing: 'passkey', passkeys: 0 });
    expect((await userRow(user.userId)).password_hash).toMatch(/^\$argon2id\$/);
    // The rollback kept the login in flight alive: it still finishes with the app.
    t.clock.advanceSeconds(30);
    expect((await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(other))).statusCode).toBe(200);
  });

  it('PW-15: one passkey and no unused recovery code is not enough; one passkey and recovery codes is', async () => {
    const user = await accountWithPasskeys(1);
    const codes = user.recoveryCodes;
    await deleteRecoveryCodesOfUser(t.ctx.db, user.userId);
    const refused = expectProblem(await removePassword(user.accessToken), 409, 'passwordless_not_allowed');
    expect(refused).toMatchObject({ missing: 'second_passkey_or_recovery_codes', passkeys: 1 });
    expect(refused['detail']).toMatch(/second passkey or get new recovery codes/);
    expect(codes.length).toBeGreaterThan(0);

    const fresh = (await postJson(t.app, '/v1/recovery-codes', {}, bearer(user.accessToken))).json();
    expect(fresh.recovery_codes).toHaveLength(10);
    expect((await removePassword(user.accessToken)).statusCode).toBe(204);
    expect((await userRow(user.userId)).password_hash).toBe(noPasswordHash);
  });

  it('PW-15/PW-19: two passkeys: the password goes, other sessions and logins in flight end, /v1/me says has_password: false, an event and a notice', async () => {
    const user = await accountWithPasskeys(2);
    expect((await me(user.accessToken)).has_password).toBe(true);
    const pendingLogin = await loginForMfaToken(t, user);
    const otherSession = await stepUpWithApp(t, user, await loginForMfaToken(t, user)); // an mfa_token verified: a second session
    const removed = await removePassword(user.accessToken);
    expect(removed.statusCode, removed.body).toBe(204);
    expect((await me(user.accessToken)).has_password).toBe(false);
    expectProblem(await getJson(t.app, '/v1/me', bearer(otherSession)), 401, 'invalid_token');
    t.clock.advanceSeconds(30);
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(pendingLogin)), 401, 'invalid_token');

    const event = t.events.find((candidate) => candidate.type === 'password.removed' && candidate.userId === user.userId);
    expect(event?.details).toMatchObject({ passkeys: 2, sessions_ended: 1, logins_ended: 1 });
    await t.ctx.background.flush();
    const notices = (await outboxMessages(t, user.email)).filter((message) => message.purpose === 'notice');
    expect(notices.some((message) => message.body.includes('Your password was removed: you now sign in with a passkey alone.'))).toBe(true);

    // Again: nothing to remove, nothing changes, nobody is signed out.
    expect((await removePassword(user.accessToken)).statusCode).toBe(204);
    expect(t.events.filter((candidate) => candidate.type === 'password.removed' && candidate.userId === user.userId)).toHaveLength(1);
  });
});

describe('a passwordless account at the password step (PW-17)', () => {
  it('PW-17: any password — the old one included — fails exactly like a wrong password, after the one dummy verify, and the guess is counted', async () => {
    const user = await passwordlessAccount(2);
    const wrongForOther = await login((await signUpWithEmail(t)).username, 'not the password at all');
    const unknown = await login(uniqueUsername('nobody'), user.password);
    const before = await verifyCount();
    const failedBefore = (await userRow(user.userId)).failed_attempts;
    const refused = await login(user.username, user.password);
    expect(await verifyCount()).toBe(before + 1);
    expectProblem(refused, 401, 'invalid_credentials');
    expect(refused.body).toBe(wrongForOther.body);
    expect(refused.body).toBe(unknown.body);
    expect(Object.keys(refused.headers).sort()).toEqual(Object.keys(wrongForOther.headers).sort());
    for (const password of ['', noPasswordHash, '!no-password', 'null']) expectProblem(await login(user.username, password), 401, 'invalid_credentials');
    await t.ctx.background.flush();
    expect((await userRow(user.userId)).failed_attempts).toBeGreaterThan(failedBefore);
    expect(t.events.some((event) => event.type === 'login.password_failed' && event.userId === user.userId && event.details?.['reason'] === 'no_password')).toBe(true);
  });
});

describe('a passwordless account keeps its passkeys (PW-16)', () => {
  it('PW-16: a passkey whose removal would leave one passkey and no recovery code is refused; with recovery codes it goes; the last passkey never goes while there is no password', async () => {
    const user = await passwordlessAccount(2);
    await deleteRecoveryCodesOfUser(t.ctx.db, user.userId);
    const [first, second] = user.passkeyIds as [string, string];
    const refused = expectProblem(await removeFactor(user.accessToken, first), 409, 'passwordless_factor_required');
    expect(refused).toMatchObject({ missing: 'second_passkey_or_recovery_codes' });
    expect((await me(user.accessToken)).factors.map((factor: { id: string }) => factor.id)).toContain(first);

    expect((await postJson(t.app, '/v1/recovery-codes', {}, bearer(user.accessToken))).statusCode).toBe(200);
    expect((await removeFactor(user.accessToken, first)).statusCode).toBe(204);
    expect(expectProblem(await removeFactor(user.accessToken, second), 409, 'passwordless_factor_required')).toMatchObject({ missing: 'passkey' });
    // The app is no way in on its own without a password: it may go.
    expect((await removeFactor(user.accessToken, user.factorId)).statusCode).toBe(204);
  });

  it('PW-16: with a password, the same passkey removal is the ordinary one', async () => {
    const user = await accountWithPasskeys(1);
    await deleteRecoveryCodesOfUser(t.ctx.db, user.userId);
    expect((await removeFactor(user.accessToken, user.passkeyIds[0]!)).statusCode).toBe(204);
  });
});

describe('removing the password and a passkey at once (PW-16)', () => {
  it('PW-16: DELETE /v1/password and the removal of one of two passkeys (no recovery code) at the same moment: never both', async () => {
    for (let round = 0; round < 4; round += 1) {
      const user = await accountWithPasskeys(2);
      await deleteRecoveryCodesOfUser(t.ctx.db, user.userId);
      const [password, passkey] = await Promise.all([removePassword(user.accessToken), removeFactor(user.accessToken, user.passkeyIds[0]!)]);
      const outcomes = [password.statusCode, passkey.statusCode].sort();
      // One goes first; the other then sees the account as it left it and is refused.
      expect(outcomes, `${password.body} ${passkey.body}`).toEqual([204, 409]);
      const row = await userRow(user.userId);
      const passkeys = await t.ctx.db.selectFrom('factors').select('id').where('user_id', '=', user.userId).where('type', '=', 'webauthn').execute();
      if (row.password_hash === noPasswordHash) expect(passkeys).toHaveLength(2);
      else expect(passkeys).toHaveLength(1);
    }
  });
});

describe('a password again (PW-18)', () => {
  it('PW-18/MG-01: the whole way back: passwordless, password refused, reset by e-mail, then the new password AND a recovery code — never the password alone', async () => {
    const user = await passwordlessAccount(1);
    expectProblem(await login(user.username, user.password), 401, 'invalid_credentials');

    await postJson(t.app, '/v1/password/forgot', { username: user.username });
    const code = await lastResetCode(t, user.email);
    const reset = await postJson(t.app, '/v1/password/reset', { username: user.username, code, new_password: 'a brand new passphrase again' });
    expect(reset.statusCode, reset.body).toBe(204);
    expect(reset.body).toBe('');
    // The reset ends every session, the one that went passwordless too.
    expectProblem(await getJson(t.app, '/v1/me', bearer(user.accessToken)), 401, 'invalid_token');
    expect(t.events.find((event) => event.type === 'password.reset' && event.userId === user.userId)?.details).toMatchObject({ had_password: false });

    const step = await login(user.username, 'a brand new passphrase again');
    expect(step.statusCode, step.body).toBe(200);
    expect(step.json()).toMatchObject({ next: 'verify' });
    expect(Object.keys(step.json())).not.toContain('access_token');
    // The mfa_token is no access token: nothing of the account opens with the password alone.
    expectProblem(await getJson(t.app, '/v1/me', bearer(step.json().mfa_token)), 401, 'invalid_token');
    const signedIn = await postJson(t.app, '/v1/mfa/verify', { recovery_code: user.recoveryCodes[0] }, bearer(step.json().mfa_token));
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    const account = await me(signedIn.json().access_token);
    expect(account.has_password).toBe(true);
    expect(account.recovery_codes_remaining).toBe(9);
  });

  it('PW-18/PW-19: a signed-in passwordless account sets a password with a step-up and no current password; recorded as password.set and notified', async () => {
    const user = await passwordlessAccount(2);
    const stale = await staleAccessToken(t, user.refreshToken);
    expectProblem(await postJson(t.app, '/v1/password', { new_password: 'my password once more' }, bearer(stale.accessToken)), 401, 'insufficient_authentication');
    const fresh = await stepUpWithApp(t, user, stale.accessToken);
    expectProblem(await postJson(t.app, '/v1/password', { new_password: 'short' }, bearer(fresh)), 400, 'weak_password');
    const set = await postJson(t.app, '/v1/password', { new_password: 'my password once more' }, bearer(fresh));
    expect(set.statusCode, set.body).toBe(204);
    expect((await me(fresh)).has_password).toBe(true);
    expect(t.events.some((event) => event.type === 'password.set' && event.userId === user.userId)).toBe(true);
    await t.ctx.background.flush();
    expect((await outboxMessages(t, user.email)).some((message) => message.purpose === 'notice' && message.body.includes('A password was set for your account'))).toBe(true);
    expect((await login(user.username, 'my password once more')).json()).toMatchObject({ next: 'verify' });
  });

  it('PW-07: an account with a password still needs its current password to change it (400 without one)', async () => {
    const user = await signUpWithEmail(t);
    const missing = expectProblem(await postJson(t.app, '/v1/password', { new_password: 'another long passphrase' }, bearer(user.accessToken)), 400, 'invalid_request');
    expect(missing['errors']).toEqual([expect.objectContaining({ pointer: '#/current_password' })]);
    expect((await login(user.username, user.password)).statusCode).toBe(200);
  });
});
