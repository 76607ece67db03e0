// Enrolling a factor takes what starting it took (SS-09, OT-07, WA-06): confirming a pending factor,
// or asking a new challenge for it, needs the session that started the enrollment, still aal2 with
// a second factor from the last 5 minutes (or, for the first factor, the very pending login that
// started it). A remembered browser (aal1), a stale session, or another session of the same person
// cannot finish someone's enrollment with a secret, a phone or a passkey of its own. And a challenge
// answers only what it was asked for: a login's code is not a step-up. On SQLite and on PostgreSQL + Redis.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, registerUser, signIn, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { enrollDestination, requestCode, smsSignUp, startOtpLogin, uniquePhone } from '../helpers/otp.js';
import { lastSentCode, outboxMessages } from '../helpers/outbox.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

const confirm = (token: string, factorId: string, body: Record<string, unknown>) => postJson(t.app, `/v1/factors/${factorId}/verify`, body, bearer(token));
const challenge = (token: string, factorId: string) => postJson(t.app, '/v1/mfa/challenge', { factor_id: factorId }, bearer(token));

async function startTotp(token: string): Promise<{ factorId: string; secret: string }> {
  const response = await postJson(t.app, '/v1/factors', { type: 'totp', label: 'new app' }, bearer(token));
  expect(response.statusCode, response.body).toBe(201);
  return { factorId: response.json().factor_id, secret: response.json().secret };
}

async function statusOf(factorId: string): Promise<string | undefined> {
  return (await t.ctx.db.selectFrom('factors').select('status').where('id', '=', factorId).executeTakeFirst())?.status;
}

function expectOtherSession(response: LightMyRequestResponse): void {
  const problem = expectProblem(response, 403, 'forbidden');
  expect(problem['detail']).toMatch(/started in another session/);
  expect(response.body).not.toMatch(/"(access_token|refresh_token|recovery_codes|factor)"/);
}

/** A session of the user signed in with a remembered browser: amr [pwd, dev], acr aal1. */
async function rememberedBrowserSession(user: SignedUp): Promise<string> {
  t.clock.advanceSeconds(30);
  const remembered = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret), remember_device: true }, bearer(await loginForMfaToken(t, user)));
  expect(remembered.statusCode, remembered.body).toBe(200);
  const session = await postJson(t.app, '/v1/mfa/verify', { device_token: remembered.json().device_token }, bearer(await loginForMfaToken(t, user)));
  expect(session.statusCode, session.body).toBe(200);
  return session.json().access_token;
}

describe('confirming a pending factor takes what starting it took', () => {
  it('SS-09: a remembered-browser (aal1) session cannot confirm, nor re-challenge, a factor the owner’s session started (403); the owner can', async () => {
    const user = await signUp(t);
    const app = await startTotp(user.accessToken);
    const phone = uniquePhone();
    const sms = await enrollDestination(t, user.accessToken, { type: 'sms', phone });
    expect(sms.statusCode, sms.body).toBe(201);
    const smsCode = await lastSentCode(t, phone);
    const aal1 = await rememberedBrowserSession(user);
    // It could not start one (that needs aal2); it cannot finish the owner's either.
    expectProblem(await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(aal1)), 401, 'insufficient_authentication');
    expectOtherSession(await confirm(aal1, app.factorId, { code: totpCode(t, app.secret) }));
    const sent = (await outboxMessages(t, phone)).length;
    expectOtherSession(await requestCode(t, aal1, sms.json().factor_id));
    expect((await outboxMessages(t, phone)).length).toBe(sent);
    expectOtherSession(await confirm(aal1, sms.json().factor_id, { code: smsCode, challenge_id: sms.json().challenge_id }));
    expect(await statusOf(app.factorId)).toBe('pending');
    expect(await statusOf(sms.json().factor_id)).toBe('pending');
    expect(t.events.filter((event) => event.type === 'factor.activated' && event.userId === user.userId)).toHaveLength(1);
    // The session that started them, still recent, finishes both.
    expect((await confirm(user.accessToken, app.factorId, { code: totpCode(t, app.secret) })).statusCode).toBe(200);
    expect((await confirm(user.accessToken, sms.json().factor_id, { code: smsCode, challenge_id: sms.json().challenge_id })).statusCode).toBe(200);
  });

  it('SS-09: the session that started it, once its second factor is older than 5 minutes, must step up first (401, RFC 9470); then it can', async () => {
    const user = await signUp(t);
    const app = await startTotp(user.accessToken);
    t.clock.advanceSeconds(5 * 60 + 1);
    const stale = await confirm(user.accessToken, app.factorId, { code: totpCode(t, app.secret) });
    const problem = expectProblem(stale, 401, 'insufficient_authentication');
    expect(problem).toMatchObject({ max_age: 300, acr_values: 'aal2' });
    expect(stale.headers['www-authenticate']).toMatch(/error="insufficient_user_authentication".*max_age=300/);
    expect(await statusOf(app.factorId)).toBe('pending');
    const stepUp = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(user.accessToken));
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    t.clock.advanceSeconds(30);
    const confirmed = await confirm(stepUp.json().access_token, app.factorId, { code: totpCode(t, app.secret) });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
  });

  it('WA-06/OT-07: another aal2 session of the same person, fresh, cannot confirm or re-challenge an enrollment the first one started (403); the first can', async () => {
    const user = await signUp(t);
    const app = await startTotp(user.accessToken);
    const passkey = await postJson(t.app, '/v1/factors', { type: 'webauthn', label: 'owner key' }, bearer(user.accessToken));
    expect(passkey.statusCode, passkey.body).toBe(201);
    const other = await signIn(t, user);
    // A TOTP enrollment has no challenge: only the binding to its session stops the other one.
    expectOtherSession(await confirm(other.accessToken, app.factorId, { code: totpCode(t, app.secret) }));
    // A passkey: neither a new registration challenge for it, nor the owner's challenge answered with another key.
    expectOtherSession(await challenge(other.accessToken, passkey.json().factor_id));
    const intruderKey = createSoftAuthenticator();
    expectOtherSession(await confirm(other.accessToken, passkey.json().factor_id, { credential: intruderKey.register(passkey.json().options), challenge_id: passkey.json().challenge_id }));
    expect(await statusOf(app.factorId)).toBe('pending');
    expect(await statusOf(passkey.json().factor_id)).toBe('pending');
    expect(await t.ctx.db.selectFrom('webauthn_credentials').select('credential_id').where('factor_id', '=', passkey.json().factor_id).execute()).toEqual([]);

    expect((await confirm(user.accessToken, app.factorId, { code: totpCode(t, app.secret) })).statusCode).toBe(200);
    const ownerKey = createSoftAuthenticator();
    const owned = await confirm(user.accessToken, passkey.json().factor_id, { credential: ownerKey.register(passkey.json().options), challenge_id: passkey.json().challenge_id });
    expect(owned.statusCode, owned.body).toBe(200);
  });

  it('OT-07: with an mfa_token, only the pending login that started the enrollment confirms it — the registration’s app is not another login’s', async () => {
    const registered = await registerUser(t);
    const later = await loginForMfaToken(t, registered);
    expectOtherSession(await confirm(later, registered.factorId, { code: totpCode(t, registered.secret) }));
    expect(await statusOf(registered.factorId)).toBe('pending');
    const first = await confirm(registered.mfaToken, registered.factorId, { code: totpCode(t, registered.secret) });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().recovery_codes).toHaveLength(10);
    // The new factor is a credential change: the other login, still waiting, has ended (RC-03).
    expectProblem(await confirm(later, registered.factorId, { code: totpCode(t, registered.secret, 1) }), 401, 'invalid_token');
  });

  it('OT-07: an enrollment started before enrollments were tied to a session cannot be confirmed; the error says to start again', async () => {
    const user = await signUp(t);
    const app = await startTotp(user.accessToken);
    // A pending factor left from before the migration that recorded who started it.
    await t.ctx.db.updateTable('factors').set({ session_id: null }).where('id', '=', app.factorId).execute();
    const refused = expectProblem(await confirm(user.accessToken, app.factorId, { code: totpCode(t, app.secret) }), 403, 'forbidden');
    expect(refused['detail']).toMatch(/start it again with POST \/v1\/factors/);
    expect(await statusOf(app.factorId)).toBe('pending');
    const again = await startTotp(user.accessToken);
    expect((await confirm(user.accessToken, again.factorId, { code: totpCode(t, again.secret) })).statusCode).toBe(200);
  });

  it('MG-05: a pending factor confirmed while a stale session removes it — once active it is only ever removed with a step-up', async () => {
    const user = await signUp(t);
    const staleSession = await signIn(t, user);
    t.clock.advanceSeconds(6 * 60);
    const owner = await signIn(t, user);
    const app = await startTotp(owner.accessToken);
    const [confirmation, ...removals] = await Promise.all([
      confirm(owner.accessToken, app.factorId, { code: totpCode(t, app.secret) }),
      ...Array.from({ length: 10 }, () => t.app.inject({ method: 'DELETE', url: `/v1/factors/${app.factorId}`, headers: bearer(staleSession.accessToken) })),
    ]);
    for (const removal of removals) expect([204, 401, 404], removal.body).toContain(removal.statusCode);
    const status = await statusOf(app.factorId);
    if (confirmation!.statusCode === 200) {
      // Activated: it stays, whatever the stale token tried.
      expect(status).toBe('active');
      expect(removals.filter((removal) => removal.statusCode === 204).length).toBe(0);
    } else {
      // Removed while still pending: the confirmation found nothing to activate.
      expect(status).toBeUndefined();
    }
    expect((await getJson(t.app, '/v1/me', bearer(owner.accessToken))).statusCode).toBe(200);
  });
});

describe('a challenge answers only what it was asked for', () => {
  it('OB-02: a code sent for a login does not step up the session that login became', async () => {
    const user = await smsSignUp(t);
    t.clock.advanceSeconds(30);
    const login = await startOtpLogin(t, user, user.otpFactorId, user.destination);
    // The login completes another way (a recovery code), leaving its SMS challenge open.
    const signedIn = await postJson(t.app, '/v1/mfa/verify', { recovery_code: user.recoveryCodes[0] }, bearer(login.mfaToken));
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    const accessToken = signedIn.json().access_token;
    expectProblem(await postJson(t.app, '/v1/mfa/verify', { challenge_id: login.challengeId, code: login.code }, bearer(accessToken)), 401, 'invalid_code');
    // A step-up challenge of its own works (once the phone's resend interval has passed).
    t.clock.advanceSeconds(30);
    const stepUp = await requestCode(t, accessToken, user.otpFactorId);
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    const done = await postJson(t.app, '/v1/mfa/verify', { challenge_id: stepUp.json().challenge_id, code: await lastSentCode(t, user.destination) }, bearer(accessToken));
    expect(done.statusCode, done.body).toBe(200);
  });
});
