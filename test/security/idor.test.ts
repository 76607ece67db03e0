// IDOR (MG-05, FL-04, OB-02, WA-04): one account's ids — factors
// (active, pending, SMS, passkey), sessions, remembered browsers, challenges, event cursors — used
// with another account's tokens, through the API and the hosted pages. Every attempt is refused
// (404, or 401/403; a page may show its form again with 400), is indistinguishable from an id that
// does not exist, and leaves the victim's account exactly as it was: checked afterwards by the
// victim using every one of those factors, sessions, devices and challenges.
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, getJson, loginForMfaToken, postJson, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { lastSentCode, outboxMessages } from '../helpers/outbox.js';
import { enrollDestination, uniquePhone } from '../helpers/otp.js';
import { createSoftAuthenticator, type SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;

interface Victim extends SignedUp {
  sid: string;
  phone: string;
  smsFactorId: string;
  passkeyFactorId: string;
  authenticator: SoftAuthenticator;
  pending: { factorId: string; secret: string };
  device: { token: string; id: string; sid: string; accessToken: string };
  /** A login of the victim waiting for its second factor, with an SMS and a passkey challenge open. */
  login: { mfaToken: string; smsChallengeId: string; smsCode: string; passkeyChallengeId: string; passkeyOptions: any };
  eventIds: string[];
}

let victim: Victim;
let attacker: SignedUp & { mfaToken: string };

const missingFactor = 'fac_doesnotexist000000000000';

async function snapshot(userId: string) {
  const [factors, sessions, devices, codes, credentials, challenges] = await Promise.all([
    t.ctx.db.selectFrom('factors').select(['id', 'label', 'status', 'last_used_step', 'destination']).where('user_id', '=', userId).orderBy('id').execute(),
    t.ctx.db.selectFrom('sessions').select(['id', 'state', 'auth_time']).where('user_id', '=', userId).orderBy('id').execute(),
    t.ctx.db.selectFrom('trusted_devices').select(['id', 'revoked_at']).where('user_id', '=', userId).orderBy('id').execute(),
    t.ctx.db.selectFrom('recovery_codes').select(['id', 'used_at']).where('user_id', '=', userId).orderBy('id').execute(),
    t.ctx.db.selectFrom('webauthn_credentials').innerJoin('factors', 'factors.id', 'webauthn_credentials.factor_id').select(['credential_id', 'sign_count']).where('factors.user_id', '=', userId).execute(),
    t.ctx.db.selectFrom('challenges').select(['id', 'used_at', 'attempts', 'superseded_at']).where('user_id', '=', userId).orderBy('id').execute(),
  ]);
  const user = await t.ctx.db.selectFrom('users').select(['password_hash', 'failed_attempts']).where('id', '=', userId).executeTakeFirstOrThrow();
  return { factors, sessions, devices, codes, credentials, challenges, user };
}

let before: Awaited<ReturnType<typeof snapshot>>;
let outboxBefore: number;

beforeAll(async () => {
  t = await startTestTwofold();
  const user = await signUp(t);
  const phone = uniquePhone();
  const sms = await enrollDestination(t, user.accessToken, { type: 'sms', phone });
  expect(sms.statusCode, sms.body).toBe(201);
  expect((await postJson(t.app, `/v1/factors/${sms.json().factor_id}/verify`, { code: await lastSentCode(t, phone), challenge_id: sms.json().challenge_id }, bearer(user.accessToken))).statusCode).toBe(200);
  const authenticator = createSoftAuthenticator({ countsSignatures: false });
  const passkey = (await postJson(t.app, '/v1/factors', { type: 'webauthn', label: 'Victim key' }, bearer(user.accessToken))).json();
  expect((await postJson(t.app, `/v1/factors/${passkey.factor_id}/verify`, { credential: authenticator.register(passkey.options), challenge_id: passkey.challenge_id }, bearer(user.accessToken))).statusCode).toBe(200);
  // A remembered browser (after the factor changes, which forget them) in a second session.
  t.clock.advanceSeconds(30);
  const remembered = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret), remember_device: true }, bearer(await loginForMfaToken(t, user)));
  expect(remembered.statusCode, remembered.body).toBe(200);
  const deviceRow = await t.ctx.db.selectFrom('trusted_devices').select('id').where('user_id', '=', user.userId).executeTakeFirstOrThrow();
  const pending = (await postJson(t.app, '/v1/factors', { type: 'totp', label: 'Victim pending' }, bearer(user.accessToken))).json();
  // An open login of the victim with both challenges issued.
  t.clock.advanceSeconds(31);
  const mfaToken = await loginForMfaToken(t, user);
  const smsChallenge = await postJson(t.app, '/v1/mfa/challenge', { factor_id: sms.json().factor_id }, bearer(mfaToken));
  expect(smsChallenge.statusCode, smsChallenge.body).toBe(200);
  const passkeyChallenge = await postJson(t.app, '/v1/mfa/challenge', { factor_id: passkey.factor_id }, bearer(mfaToken));
  expect(passkeyChallenge.statusCode, passkeyChallenge.body).toBe(200);
  await t.ctx.auditTrail.flush();
  const events = await t.ctx.db.selectFrom('security_events').select('id').where('user_id', '=', user.userId).execute();
  victim = {
    ...user,
    sid: decodeJwt(user.accessToken)['sid'] as string,
    phone,
    smsFactorId: sms.json().factor_id,
    passkeyFactorId: passkey.factor_id,
    authenticator,
    pending: { factorId: pending.factor_id, secret: pending.secret },
    device: { token: remembered.json().device_token, id: deviceRow.id, sid: decodeJwt(remembered.json().access_token)['sid'] as string, accessToken: remembered.json().access_token },
    login: { mfaToken, smsChallengeId: smsChallenge.json().challenge_id, smsCode: await lastSentCode(t, phone), passkeyChallengeId: passkeyChallenge.json().challenge_id, passkeyOptions: passkeyChallenge.json().options },
    eventIds: events.map((event) => event.id),
  };
  const attackerUser = await signUp(t);
  attacker = { ...attackerUser, mfaToken: await loginForMfaToken(t, attackerUser) };
  before = await snapshot(victim.userId);
  outboxBefore = (await outboxMessages(t, phone)).length;
});
afterAll(async () => t?.close());

function send(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, body?: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url,
    headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

/** Refused, as a problem document, without anything that could be used as a token. */
function expectRefused(response: LightMyRequestResponse, where: string, allowed = [401, 403, 404]): void {
  expect(allowed, `${where}: ${response.statusCode} ${response.body}`).toContain(response.statusCode);
  expect(response.headers['content-type'], where).toMatch(/^application\/problem\+json/);
  expect(response.body, where).not.toMatch(/"(access_token|refresh_token|recovery_codes|device_token|secret|options)"/);
}

/** The answer for the victim's id is the answer for an id that does not exist (no enumeration). */
async function expectSameAsMissing(method: 'PATCH' | 'DELETE' | 'POST', victimUrl: string, missingUrl: string, token: string, body?: Record<string, unknown>): Promise<void> {
  const victimResponse = await send(method, victimUrl, token, body);
  const missingResponse = await send(method, missingUrl, token, body);
  expectRefused(victimResponse, `${method} ${victimUrl}`, [404]);
  expect(victimResponse.statusCode).toBe(missingResponse.statusCode);
  expect(victimResponse.body).toBe(missingResponse.body);
}

describe('MG-05: another account’s factor ids', () => {
  it('PATCH /v1/factors/{id}: 404 for each of the victim’s factors, like an id that does not exist', async () => {
    for (const id of [victim.factorId, victim.smsFactorId, victim.passkeyFactorId, victim.pending.factorId]) {
      await expectSameAsMissing('PATCH', `/v1/factors/${id}`, `/v1/factors/${missingFactor}`, attacker.accessToken, { label: 'owned' });
    }
  });

  it('DELETE /v1/factors/{id}: 404 for each of the victim’s factors, active or pending', async () => {
    for (const id of [victim.factorId, victim.smsFactorId, victim.passkeyFactorId, victim.pending.factorId]) {
      await expectSameAsMissing('DELETE', `/v1/factors/${id}`, `/v1/factors/${missingFactor}`, attacker.accessToken);
    }
  });

  it('POST /v1/factors/{id}/verify: the victim’s pending factor with its right code — 404 with an access token and with an mfa_token', async () => {
    const code = totpCode(t, victim.pending.secret);
    await expectSameAsMissing('POST', `/v1/factors/${victim.pending.factorId}/verify`, `/v1/factors/${missingFactor}/verify`, attacker.accessToken, { code });
    expectRefused(await send('POST', `/v1/factors/${victim.pending.factorId}/verify`, attacker.mfaToken, { code }), 'confirm with an mfa_token');
    // An active factor of the victim, with the victim's SMS challenge: no more.
    expectRefused(await send('POST', `/v1/factors/${victim.smsFactorId}/verify`, attacker.accessToken, { code: victim.login.smsCode, challenge_id: victim.login.smsChallengeId }), 'confirm the victim’s SMS factor');
  });

  it('POST /v1/mfa/challenge {factor_id}: 404 for the victim’s SMS, passkey and pending factors, and no text reaches the victim’s phone', async () => {
    for (const token of [attacker.mfaToken, attacker.accessToken]) {
      for (const id of [victim.smsFactorId, victim.passkeyFactorId, victim.pending.factorId, victim.factorId]) {
        const response = await send('POST', '/v1/mfa/challenge', token, { factor_id: id });
        expectRefused(response, `challenge ${id}`, [404]);
        expect(response.body).toBe((await send('POST', '/v1/mfa/challenge', token, { factor_id: missingFactor })).body);
      }
    }
    expect((await outboxMessages(t, victim.phone)).length).toBe(outboxBefore);
  });

  it('POST /v1/mfa/verify {factor_id}: the victim’s app factor with the victim’s current code — 404, and the code is not used up', async () => {
    t.clock.advanceSeconds(30);
    const code = totpCode(t, victim.secret);
    for (const token of [attacker.mfaToken, attacker.accessToken]) {
      const response = await send('POST', '/v1/mfa/verify', token, { factor_id: victim.factorId, code });
      expectRefused(response, 'verify with the victim’s factor_id', [404]);
      expect(response.body).toBe((await send('POST', '/v1/mfa/verify', token, { factor_id: missingFactor, code })).body);
    }
    // Other factor types named by a victim's id.
    expectRefused(await send('POST', '/v1/mfa/verify', attacker.mfaToken, { factor_id: victim.smsFactorId, code: victim.login.smsCode }), 'verify with the victim’s SMS factor_id');
    // The victim's code still works for the victim (below, in "afterwards").
  });
});

describe('OB-02/WA-04: another account’s challenge ids', () => {
  it('POST /v1/mfa/verify {challenge_id, code}: the victim’s SMS challenge with its right code — refused for the attacker’s login and step-up', async () => {
    for (const token of [attacker.mfaToken, attacker.accessToken]) {
      expectRefused(await send('POST', '/v1/mfa/verify', token, { challenge_id: victim.login.smsChallengeId, code: victim.login.smsCode }), 'SMS challenge');
      expectRefused(await send('POST', '/v1/mfa/verify', token, { challenge_id: victim.login.smsChallengeId, factor_id: victim.smsFactorId, code: victim.login.smsCode }), 'SMS challenge + factor');
    }
  });

  it('POST /v1/mfa/verify {challenge_id, credential}: the victim’s passkey challenge answered by the victim’s passkey — refused', async () => {
    for (const token of [attacker.mfaToken, attacker.accessToken]) {
      const assertion = victim.authenticator.authenticate(victim.login.passkeyOptions);
      expectRefused(await send('POST', '/v1/mfa/verify', token, { challenge_id: victim.login.passkeyChallengeId, credential: assertion }), 'passkey challenge');
    }
  });
});

describe('MG-05/SS-07: another account’s sessions and remembered browsers', () => {
  it('DELETE /v1/sessions/{id}: 404 for both of the victim’s sessions, like a session that does not exist', async () => {
    for (const sid of [victim.sid, victim.device.sid]) {
      await expectSameAsMissing('DELETE', `/v1/sessions/${sid}`, '/v1/sessions/ses_doesnotexist00000000000', attacker.accessToken);
    }
  });

  it('DELETE /v1/trusted-devices/{id}: 404 for the victim’s remembered browser', async () => {
    await expectSameAsMissing('DELETE', `/v1/trusted-devices/${victim.device.id}`, '/v1/trusted-devices/dev_doesnotexist00000000000', attacker.accessToken);
  });

  it('POST /v1/logout {refresh_token} with the victim’s refresh token ends only the attacker’s own session', async () => {
    const own = await postJson(t.app, '/v1/login', { username: attacker.username, password: attacker.password });
    const session = (await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, attacker.secret) }, bearer(own.json().mfa_token))).json();
    expect((await send('POST', '/v1/logout', session.access_token, { refresh_token: victim.refreshToken })).statusCode).toBe(204);
    const state = await t.ctx.db.selectFrom('sessions').select('state').where('id', '=', victim.sid).executeTakeFirstOrThrow();
    expect(state.state).toBe('active');
  });

  it('GET /v1/me/events?before=<the victim’s event id> pages through the attacker’s own events only', async () => {
    for (const id of victim.eventIds.slice(0, 5)) {
      const response = await getJson(t.app, `/v1/me/events?before=${encodeURIComponent(id)}&limit=100`, bearer(attacker.accessToken));
      expect(response.statusCode, response.body).toBe(200);
      const ids = (response.json().events as Array<{ id: string }>).map((event) => event.id);
      expect(ids.filter((eventId) => victim.eventIds.includes(eventId))).toEqual([]);
      expect(response.body).not.toContain(victim.userId);
      expect(response.body).not.toContain(victim.phone);
    }
  });
});

describe('MG-05: the same ids through the hosted pages (the attacker’s own signed-in browser)', () => {
  const csrf = 'A'.repeat(43);
  const cookie = () => `__Host-twofold-csrf=${csrf}; __Host-twofold-access=${attacker.accessToken}; __Host-twofold-refresh=${attacker.refreshToken}`;
  const postPage = (url: string, fields: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url, headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ csrf, ...fields }).toString() });

  it.each([
    ['rename a factor', (id: string) => `/account/factors/${id}/rename`, () => [victim.factorId, victim.smsFactorId, victim.passkeyFactorId, victim.pending.factorId], { label: 'owned' }],
    ['remove a factor', (id: string) => `/account/factors/${id}/remove`, () => [victim.factorId, victim.smsFactorId, victim.passkeyFactorId, victim.pending.factorId], {}],
    ['end a session', (id: string) => `/account/sessions/${id}/revoke`, () => [victim.sid, victim.device.sid], {}],
    ['forget a remembered browser', (id: string) => `/account/devices/${id}/forget`, () => [victim.device.id], {}],
  ] as const)('%s: 404 page for each of the victim’s ids', async (_name, path, ids, fields) => {
    for (const id of ids()) {
      const response = await postPage(path(id), fields);
      expect(response.statusCode, `${path(id)}: ${response.body.slice(0, 200)}`).toBe(404);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers.location).toBeUndefined();
    }
  });

  it('upgrading a passkey (PP-05): the victim’s passkey is no passkey of the attacker’s — a 404 page, and as the one a new passkey replaces it is ignored', async () => {
    const page = await t.app.inject({ method: 'GET', url: `/account/factors/${victim.passkeyFactorId}/upgrade`, headers: { cookie: cookie() } });
    expect(page.statusCode, page.body.slice(0, 200)).toBe(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const enrollment = await postPage('/enroll/passkey', { label: 'mine', replaces: victim.passkeyFactorId });
    expect(enrollment.statusCode, enrollment.body.slice(0, 200)).toBe(200);
    const newFactorId = /name="factor_id" value="([^"]+)"/.exec(enrollment.body)![1]!;
    // Nothing links the attacker's new passkey to the victim's: confirming it would remove nothing.
    expect(await t.ctx.kv.get(`passkey-upgrade:${newFactorId}`)).toBeUndefined();
  });

  it('enroll/confirm, challenges and step-up forms with the victim’s ids: refused, nothing sent', async () => {
    const confirm = await postPage('/enroll/confirm', { factor_id: victim.pending.factorId, code: totpCode(t, victim.pending.secret) });
    // The page shows its form again (400) with the flow's "not found".
    expect([400, 404], confirm.body.slice(0, 200)).toContain(confirm.statusCode);
    for (const factorId of [victim.smsFactorId, victim.passkeyFactorId]) {
      const challenge = await postPage('/account/challenge', { factor_id: factorId });
      expect([400, 404]).toContain(challenge.statusCode);
      expect(challenge.body).not.toContain(victim.login.passkeyChallengeId);
    }
    const stepUp = await postPage('/account/verify', { challenge_id: victim.login.smsChallengeId, code: victim.login.smsCode });
    expect(stepUp.statusCode).toBe(401);
    expect(stepUp.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^__Host-twofold-access=ey/)]));
    // A pending sign-in of the attacker asking for the victim's SMS factor.
    const pendingCookie = `__Host-twofold-csrf=${csrf}; __Host-twofold-pending=${await loginForMfaToken(t, attacker)}`;
    const signInChallenge = await t.app.inject({
      method: 'POST',
      url: '/sign-in/challenge',
      headers: { cookie: pendingCookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ csrf, factor_id: victim.smsFactorId }).toString(),
    });
    expect([400, 404]).toContain(signInChallenge.statusCode);
    expect((await outboxMessages(t, victim.phone)).length).toBe(outboxBefore);
  });
});

describe('afterwards', () => {
  it('the victim’s account is exactly as it was', async () => {
    const after = await snapshot(victim.userId);
    expect(after.factors).toEqual(before.factors);
    expect(after.sessions).toEqual(before.sessions);
    expect(after.devices).toEqual(before.devices);
    expect(after.codes).toEqual(before.codes);
    expect(after.credentials).toEqual(before.credentials);
    expect(after.challenges).toEqual(before.challenges);
    expect(after.user).toEqual(before.user);
    expect((await outboxMessages(t, victim.phone)).length).toBe(outboxBefore);
  });

  it('and everything the attacker named still works for the victim', async () => {
    // Both sessions.
    expect((await getJson(t.app, '/v1/me', bearer(victim.accessToken))).statusCode).toBe(200);
    expect((await getJson(t.app, '/v1/me', bearer(victim.device.accessToken))).statusCode).toBe(200);
    // The open SMS challenge, and the passkey challenge (in another login: the SMS one completes the first).
    const sms = await postJson(t.app, '/v1/mfa/verify', { challenge_id: victim.login.smsChallengeId, code: victim.login.smsCode }, bearer(victim.login.mfaToken));
    expect(sms.statusCode, sms.body).toBe(200);
    // The TOTP code the attacker tried (the clock has not moved since): not claimed by the attempts.
    const viaApp = await postJson(t.app, '/v1/mfa/verify', { factor_id: victim.factorId, code: totpCode(t, victim.secret) }, bearer(await loginForMfaToken(t, victim)));
    expect(viaApp.statusCode, viaApp.body).toBe(200);
    // The passkey, on a new challenge.
    const mfaToken = await loginForMfaToken(t, victim);
    const issued = (await postJson(t.app, '/v1/mfa/challenge', { factor_id: victim.passkeyFactorId }, bearer(mfaToken))).json();
    expect((await postJson(t.app, '/v1/mfa/verify', { challenge_id: issued.challenge_id, credential: victim.authenticator.authenticate(issued.options) }, bearer(mfaToken))).statusCode).toBe(200);
    // The remembered browser.
    const device = await postJson(t.app, '/v1/mfa/verify', { device_token: victim.device.token }, bearer(await loginForMfaToken(t, victim)));
    expect(device.statusCode, device.body).toBe(200);
    // The pending factor: still the victim's to confirm, in the session that started it.
    const confirm = await postJson(t.app, `/v1/factors/${victim.pending.factorId}/verify`, { code: totpCode(t, victim.pending.secret) }, bearer(victim.accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(confirm.json().factor).toMatchObject({ id: victim.pending.factorId, label: 'Victim pending', status: 'active' });
  });
});
