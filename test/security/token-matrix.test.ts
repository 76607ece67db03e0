// Every kind of secret Twofold hands out, presented where another kind is expected (FL-01,
// FL-02, JW-10, SS-04): the mfa_token, access tokens (aal2, and aal1 from a
// remembered browser), the refresh token, a recovery code, a device token, an SMS code and garbage —
// as the Bearer token of every authenticated route (enumerated from /openapi.json, so a new route
// cannot slip past), as the body of /v1/token/refresh, and in every proof field of /v1/mfa/verify.
// Only the intended pairs succeed; a refused secret has no effect and is not used up.
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, getJson, loginForMfaToken, postJson, registerUser, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { lastSentCode } from '../helpers/outbox.js';
import { enrollDestination, requestCode, uniquePhone } from '../helpers/otp.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';
import { publicApiRoutes } from '../helpers/routes.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

let t: TestTwofold;
beforeAll(async () => {
  t = await startTestTwofold();
});
afterAll(async () => t.close());

// ---------------------------------------------------------------------------------------------
// A subject: an account with every kind of secret and id the routes need

interface Subject extends SignedUp {
  /** The session of the sign-up (user.accessToken / user.refreshToken). */
  sid: string;
  passkeyFactorId: string;
  /** A TOTP factor being enrolled (not confirmed), with its secret. */
  pendingTotp: { factorId: string; secret: string };
  deviceToken: string;
  deviceId: string;
}

async function buildSubject(): Promise<Subject> {
  const user = await signUp(t);
  // A passkey, for /v1/mfa/challenge (no send throttle). Factor changes forget remembered
  // browsers, so it comes before the device.
  const authenticator = createSoftAuthenticator();
  const enrollment = await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.accessToken));
  expect(enrollment.statusCode, enrollment.body).toBe(201);
  const confirmed = await postJson(
    t.app,
    `/v1/factors/${enrollment.json().factor_id}/verify`,
    { credential: authenticator.register(enrollment.json().options), challenge_id: enrollment.json().challenge_id },
    bearer(user.accessToken),
  );
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  // A second passkey: with two, the account may go passwordless (PW-15) — recovery codes would
  // count only with a verified address a reset could reach, which this subject has not.
  const second = await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.accessToken));
  const secondAuthenticator = createSoftAuthenticator();
  const secondConfirmed = await postJson(t.app, `/v1/factors/${second.json().factor_id}/verify`, { credential: secondAuthenticator.register(second.json().options), challenge_id: second.json().challenge_id }, bearer(user.accessToken));
  expect(secondConfirmed.statusCode, secondConfirmed.body).toBe(200);
  // A remembered browser (a second session).
  t.clock.advanceSeconds(30);
  const mfaToken = await loginForMfaToken(t, user);
  const remembered = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret), remember_device: true }, bearer(mfaToken));
  expect(remembered.statusCode, remembered.body).toBe(200);
  const deviceToken = remembered.json().device_token as string;
  expect(deviceToken).toMatch(/^tfd_/);
  const device = await t.ctx.db.selectFrom('trusted_devices').select('id').where('user_id', '=', user.userId).executeTakeFirstOrThrow();
  // A pending TOTP factor.
  const pending = await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(user.accessToken));
  expect(pending.statusCode, pending.body).toBe(201);
  return {
    ...user,
    sid: decodeJwt(user.accessToken)['sid'] as string,
    passkeyFactorId: enrollment.json().factor_id,
    pendingTotp: { factorId: pending.json().factor_id, secret: pending.json().secret },
    deviceToken,
    deviceId: device.id,
  };
}

/** Password, then the remembered browser's token instead of a second factor: an aal1 session. */
async function deviceLogin(subject: Subject): Promise<{ access_token: string; refresh_token: string }> {
  const mfaToken = await loginForMfaToken(t, subject);
  const response = await postJson(t.app, '/v1/mfa/verify', { device_token: subject.deviceToken }, bearer(mfaToken));
  expect(response.statusCode, response.body).toBe(200);
  expect(decodeJwt(response.json().access_token)['acr']).toBe('aal1');
  return response.json();
}

// ---------------------------------------------------------------------------------------------
// The authenticated routes, each with a request that is valid for the subject

interface Request {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  body?: Record<string, unknown>;
}

type Outcome = { status: number; code?: string } | 'any';
const ok = (status: number): Outcome => ({ status });
const refused = (status: number, code: string): Outcome => ({ status, code });
const invalidToken = refused(401, 'invalid_token');
const stepUpNeeded = refused(401, 'insufficient_authentication');

/** The intended bearer kinds: the mfa_token of an enrolled account, a fresh aal2 access token, an aal1 one. */
type IntendedKind = 'mfa_token' | 'access token' | 'aal1 access token';

interface RouteSpec {
  request(subject: Subject): Request;
  expected: Record<IntendedKind, Outcome>;
}

/** Routes that take no token (FL-01's exceptions); every other route in the OpenAPI document must be below. */
const publicRoutes = publicApiRoutes;

const routeSpecs: Record<string, RouteSpec> = {
  'GET /v1/me': { request: () => ({ method: 'GET', url: '/v1/me' }), expected: { mfa_token: invalidToken, 'access token': ok(200), 'aal1 access token': ok(200) } },
  'GET /v1/factors': { request: () => ({ method: 'GET', url: '/v1/factors' }), expected: { mfa_token: invalidToken, 'access token': ok(200), 'aal1 access token': ok(200) } },
  'PATCH /v1/factors/{id}': {
    request: (s) => ({ method: 'PATCH', url: `/v1/factors/${s.factorId}`, body: { label: 'renamed by the matrix' } }),
    expected: { mfa_token: invalidToken, 'access token': ok(200), 'aal1 access token': ok(200) },
  },
  'DELETE /v1/factors/{id}': {
    // An abandoned enrollment: any access token of the account may remove it.
    request: (s) => ({ method: 'DELETE', url: `/v1/factors/${s.pendingTotp.factorId}` }),
    expected: { mfa_token: invalidToken, 'access token': ok(204), 'aal1 access token': ok(204) },
  },
  'POST /v1/factors': {
    request: () => ({ method: 'POST', url: '/v1/factors', body: { type: 'totp' } }),
    expected: { mfa_token: refused(403, 'forbidden'), 'access token': ok(201), 'aal1 access token': stepUpNeeded },
  },
  'POST /v1/factors/{id}/verify': {
    request: (s) => ({ method: 'POST', url: `/v1/factors/${s.pendingTotp.factorId}/verify`, body: { code: totpCode(t, s.pendingTotp.secret) } }),
    // aal1: finishing an enrollment needs no fresh factor (freshness was checked when it started,
    // and only the session that started it saw the secret) — not asserted beyond "no tokens".
    expected: { mfa_token: refused(403, 'forbidden'), 'access token': ok(200), 'aal1 access token': 'any' },
  },
  'POST /v1/mfa/challenge': {
    request: (s) => ({ method: 'POST', url: '/v1/mfa/challenge', body: { factor_id: s.passkeyFactorId } }),
    expected: { mfa_token: ok(200), 'access token': ok(200), 'aal1 access token': ok(200) },
  },
  'POST /v1/mfa/verify': {
    // The cells move the clock a step first, so this code is unused.
    request: (s) => ({ method: 'POST', url: '/v1/mfa/verify', body: { code: totpCode(t, s.secret) } }),
    expected: { mfa_token: ok(200), 'access token': ok(200), 'aal1 access token': ok(200) },
  },
  'POST /v1/recovery-codes': { request: () => ({ method: 'POST', url: '/v1/recovery-codes' }), expected: { mfa_token: invalidToken, 'access token': ok(200), 'aal1 access token': stepUpNeeded } },
  'POST /v1/logout': { request: () => ({ method: 'POST', url: '/v1/logout', body: {} }), expected: { mfa_token: invalidToken, 'access token': ok(204), 'aal1 access token': ok(204) } },
  'GET /v1/sessions': { request: () => ({ method: 'GET', url: '/v1/sessions' }), expected: { mfa_token: invalidToken, 'access token': ok(200), 'aal1 access token': ok(200) } },
  'DELETE /v1/sessions': { request: () => ({ method: 'DELETE', url: '/v1/sessions' }), expected: { mfa_token: invalidToken, 'access token': ok(200), 'aal1 access token': stepUpNeeded } },
  'DELETE /v1/sessions/{id}': {
    // The sign-up session: the current one for the access token, another one for the aal1 token.
    request: (s) => ({ method: 'DELETE', url: `/v1/sessions/${s.sid}` }),
    expected: { mfa_token: invalidToken, 'access token': ok(204), 'aal1 access token': stepUpNeeded },
  },
  'POST /v1/password': {
    request: (s) => ({ method: 'POST', url: '/v1/password', body: { current_password: s.password, new_password: 'an entirely different passphrase' } }),
    expected: { mfa_token: invalidToken, 'access token': ok(204), 'aal1 access token': stepUpNeeded },
  },
  'DELETE /v1/password': {
    // The subject has two passkeys: enough to go passwordless (PW-15).
    request: () => ({ method: 'DELETE', url: '/v1/password' }),
    expected: { mfa_token: invalidToken, 'access token': ok(204), 'aal1 access token': stepUpNeeded },
  },
  'GET /v1/trusted-devices': { request: () => ({ method: 'GET', url: '/v1/trusted-devices' }), expected: { mfa_token: invalidToken, 'access token': ok(200), 'aal1 access token': ok(200) } },
  'DELETE /v1/trusted-devices/{id}': {
    request: (s) => ({ method: 'DELETE', url: `/v1/trusted-devices/${s.deviceId}` }),
    expected: { mfa_token: invalidToken, 'access token': ok(204), 'aal1 access token': ok(204) },
  },
  'GET /v1/me/events': { request: () => ({ method: 'GET', url: '/v1/me/events' }), expected: { mfa_token: invalidToken, 'access token': ok(200), 'aal1 access token': ok(200) } },
  // The subject has no address: the route is reached and says so.
  'POST /v1/me/email/verification': {
    request: () => ({ method: 'POST', url: '/v1/me/email/verification' }),
    expected: { mfa_token: invalidToken, 'access token': refused(400, 'invalid_request'), 'aal1 access token': refused(400, 'invalid_request') },
  },
  'PUT /v1/me/email': {
    request: () => ({ method: 'PUT', url: '/v1/me/email', body: { email: 'matrix@example.com' } }),
    expected: { mfa_token: invalidToken, 'access token': ok(200), 'aal1 access token': stepUpNeeded },
  },
  // The admin API: the subject holds no admin role, so every kind of its access tokens is refused (AD-10).
  ...adminRouteSpecs(),
};

function adminRouteSpecs(): Record<string, RouteSpec> {
  const noRole: Record<IntendedKind, Outcome> = { mfa_token: invalidToken, 'access token': refused(403, 'forbidden'), 'aal1 access token': refused(403, 'forbidden') };
  const reason = { reason: 'the token matrix' };
  const specs: Record<string, RouteSpec> = {
    'GET /v1/admin/users': { request: () => ({ method: 'GET', url: '/v1/admin/users' }), expected: noRole },
    'POST /v1/admin/users/export': { request: () => ({ method: 'POST', url: '/v1/admin/users/export', body: reason }), expected: noRole },
    'GET /v1/admin/users/{id}': { request: (s) => ({ method: 'GET', url: `/v1/admin/users/${s.userId}` }), expected: noRole },
    'DELETE /v1/admin/users/{id}': { request: (s) => ({ method: 'DELETE', url: `/v1/admin/users/${s.userId}`, body: reason }), expected: noRole },
    'POST /v1/admin/users/{id}/roles': { request: (s) => ({ method: 'POST', url: `/v1/admin/users/${s.userId}/roles`, body: { ...reason, role: 'admin' } }), expected: noRole },
    'DELETE /v1/admin/users/{id}/roles/{role}': { request: (s) => ({ method: 'DELETE', url: `/v1/admin/users/${s.userId}/roles/admin`, body: reason }), expected: noRole },
  };
  for (const action of ['lock', 'unlock', 'end-sessions', 'force-password-reset', 'reset-second-factors', 'cancel-deletion']) {
    specs[`POST /v1/admin/users/{id}/${action}`] = { request: (s) => ({ method: 'POST', url: `/v1/admin/users/${s.userId}/${action}`, body: reason }), expected: noRole };
  }
  return specs;
}

function send(request: Request, token: string | undefined): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = token === undefined ? {} : bearer(token);
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  return t.app.inject({ method: request.method, url: request.url, headers, ...(request.body === undefined ? {} : { payload: JSON.stringify(request.body) }) });
}

const tokenShapes = /"(access_token|refresh_token|mfa_token|device_token|recovery_codes)"|eyJ[A-Za-z0-9_-]+\.eyJ|tfr_[A-Za-z0-9_-]{20}|tfd_[A-Za-z0-9_-]{20}/;

function expectOutcome(response: LightMyRequestResponse, outcome: Outcome, where: string): void {
  const detail = `${where}: ${response.statusCode} ${response.body.slice(0, 300)}`;
  expect(response.statusCode, detail).toBeLessThan(500);
  if (response.statusCode >= 400) {
    expect(response.headers['content-type'], detail).toMatch(/^application\/problem\+json/);
    expect(response.body, detail).not.toMatch(tokenShapes);
  }
  if (outcome === 'any') return;
  expect(response.statusCode, detail).toBe(outcome.status);
  if (outcome.code !== undefined) expect(response.json().code, detail).toBe(outcome.code);
}

async function openapiRoutes(): Promise<string[]> {
  const openapi = (await getJson(t.app, '/openapi.json')).json();
  return Object.entries(openapi.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
}

// ---------------------------------------------------------------------------------------------

describe('the route table', () => {
  it('FL-01: every route of /openapi.json is either public or in this matrix (a new route must be classified)', async () => {
    const routes = await openapiRoutes();
    const unclassified = routes.filter((route) => !publicRoutes.has(route) && routeSpecs[route] === undefined);
    expect(unclassified).toEqual([]);
    // And the matrix names no route that does not exist.
    expect(Object.keys(routeSpecs).filter((route) => !routes.includes(route))).toEqual([]);
    expect(routes).toEqual(expect.arrayContaining(['GET /v1/sessions', 'DELETE /v1/sessions', 'POST /v1/password', 'GET /v1/me/events', 'GET /v1/trusted-devices', 'DELETE /v1/trusted-devices/{id}', 'POST /v1/recovery-codes']));
  });
});

describe.each(Object.entries(routeSpecs))('JW-10/FL-02: %s with each intended token kind', (route, spec) => {
  it('the mfa_token of an enrolled account', async () => {
    const subject = await buildSubject();
    const mfaToken = await loginForMfaToken(t, subject);
    t.clock.advanceSeconds(30);
    const response = await send(spec.request(subject), mfaToken);
    expectOutcome(response, spec.expected.mfa_token, `${route} with an mfa_token`);
    if (response.statusCode === 200 && route === 'POST /v1/mfa/verify') {
      expect(Object.keys(response.json()).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    }
  });

  it('a fresh aal2 access token', async () => {
    const subject = await buildSubject();
    t.clock.advanceSeconds(30);
    const response = await send(spec.request(subject), subject.accessToken);
    expectOutcome(response, spec.expected['access token'], `${route} with an access token`);
    // Only a completed second factor with an mfa_token mints a refresh token (SS-04, FL-08).
    expect(response.body).not.toMatch(/"refresh_token"|"device_token"/);
  });

  it('an aal1 access token (a remembered browser)', async () => {
    const subject = await buildSubject();
    const aal1 = await deviceLogin(subject);
    t.clock.advanceSeconds(30);
    const response = await send(spec.request(subject), aal1.access_token);
    expectOutcome(response, spec.expected['aal1 access token'], `${route} with an aal1 access token`);
    expect(response.body).not.toMatch(/"refresh_token"|"device_token"|"recovery_codes"/);
    if (response.statusCode === 200 && route === 'POST /v1/mfa/verify') {
      // A real factor on an aal1 session is a step-up to aal2; it never mints a refresh token.
      expect(Object.keys(response.json()).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
      expect(decodeJwt(response.json().access_token)).toMatchObject({ acr: 'aal2' });
    }
  });
});

describe('FL-01: the mfa_token of an account that has no factor yet (registration)', () => {
  it('may only enroll and confirm the first factor; a pending factor cannot complete a login; nothing else', async () => {
    const registered = await registerUser(t);
    const other = await buildSubject();
    for (const [route, spec] of Object.entries(routeSpecs)) {
      if (route.startsWith('POST /v1/factors') || route.startsWith('POST /v1/mfa/')) continue;
      // Ids of another account: refused at authentication before they matter.
      expectOutcome(await send(spec.request(other), registered.mfaToken), invalidToken, `${route} with a registration mfa_token`);
    }
    // The unconfirmed TOTP factor is no second factor: its code completes no login (and /challenge has nothing to send).
    const viaVerify = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken));
    expectOutcome(viaVerify, refused(401, 'invalid_code'), 'a pending factor’s code at /v1/mfa/verify');
    expectOutcome(await postJson(t.app, '/v1/mfa/challenge', { factor_id: registered.factorId }, bearer(registered.mfaToken)), refused(400, 'invalid_request'), '/v1/mfa/challenge for a pending TOTP factor');
    // The intended pairs: start an enrollment (it replaces the unconfirmed one), then confirm it.
    const pending = await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(registered.mfaToken));
    expectOutcome(pending, ok(201), 'POST /v1/factors with a registration mfa_token');
    const confirm = await postJson(t.app, `/v1/factors/${pending.json().factor_id}/verify`, { code: totpCode(t, pending.json().secret) }, bearer(registered.mfaToken));
    expectOutcome(confirm, ok(200), 'POST /v1/factors/{id}/verify with a registration mfa_token');
    expect(confirm.json().recovery_codes).toHaveLength(10);
  });
});

// ---------------------------------------------------------------------------------------------
// Secrets that are never a Bearer token: refused everywhere, and not used up by the attempt

describe('secrets that are not bearer tokens', () => {
  interface Holder {
    subject: Subject;
    smsFactorId: string;
    phone: string;
    /** A login waiting for an SMS code: its mfa_token, challenge and the code sent. */
    smsLogin: { mfaToken: string; challengeId: string; code: string };
    refreshToken: string;
    recoveryCode: string;
  }
  let holder: Holder;

  beforeAll(async () => {
    const user = await signUp(t);
    const phone = uniquePhone();
    const enroll = await enrollDestination(t, user.accessToken, { type: 'sms', phone });
    expect(enroll.statusCode, enroll.body).toBe(201);
    const smsFactorId = enroll.json().factor_id as string;
    const confirm = await postJson(t.app, `/v1/factors/${smsFactorId}/verify`, { code: await lastSentCode(t, phone), challenge_id: enroll.json().challenge_id }, bearer(user.accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    // Subject-like extras after the factor change (it forgot remembered browsers).
    t.clock.advanceSeconds(30);
    const remembered = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret), remember_device: true }, bearer(await loginForMfaToken(t, user)));
    expect(remembered.statusCode, remembered.body).toBe(200);
    const device = await t.ctx.db.selectFrom('trusted_devices').select('id').where('user_id', '=', user.userId).executeTakeFirstOrThrow();
    const pending = (await postJson(t.app, '/v1/factors', { type: 'totp' }, bearer(remembered.json().access_token))).json();
    t.clock.advanceSeconds(31);
    const smsMfaToken = await loginForMfaToken(t, user);
    const challenge = await requestCode(t, smsMfaToken, smsFactorId);
    expect(challenge.statusCode, challenge.body).toBe(200);
    holder = {
      subject: {
        ...user,
        sid: decodeJwt(user.accessToken)['sid'] as string,
        // /v1/mfa/challenge names the SMS factor here: no request reaches it, so nothing is sent.
        passkeyFactorId: smsFactorId,
        pendingTotp: { factorId: pending.factor_id, secret: pending.secret },
        deviceToken: remembered.json().device_token,
        deviceId: device.id,
      },
      smsFactorId,
      phone,
      smsLogin: { mfaToken: smsMfaToken, challengeId: challenge.json().challenge_id, code: await lastSentCode(t, phone) },
      refreshToken: remembered.json().refresh_token,
      recoveryCode: user.recoveryCodes[0]!,
    };
  });

  const garbage = (): Array<[string, string]> => [
    ['garbage', 'garbage'],
    ['a random base64url string', 'q2VyXRJd0a9b7s1LmZt6Yw7Xz4bq1l8oP0cK3hJv2nA'],
    ['three random JWT-like segments', 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.AAAA'],
    ['a refresh-token-shaped string', `tfr_${'A'.repeat(43)}`],
    ['a device-token-shaped string', `tfd_${'A'.repeat(43)}`],
  ];

  const notBearerKinds = (): Array<[string, string]> => [
    ['a refresh token', holder.refreshToken],
    ['a recovery code', holder.recoveryCode],
    ['a device token', holder.subject.deviceToken],
    ['an SMS code', holder.smsLogin.code],
    ['the TOTP secret', holder.subject.secret],
    ['the user id', holder.subject.userId],
    ...garbage(),
  ];

  it('JW-10/FL-02: as the Bearer token of every authenticated route: 401 invalid_token', async () => {
    const routes = await openapiRoutes();
    for (const route of routes) {
      if (publicRoutes.has(route)) continue;
      const spec = routeSpecs[route];
      expect(spec, `${route} is not in the matrix`).toBeDefined();
      for (const [kind, secret] of notBearerKinds()) {
        expectOutcome(await send(spec!.request(holder.subject), secret), invalidToken, `${route} with ${kind} as the Bearer token`);
      }
    }
  });

  it('SS-04/FL-02: as the body of /v1/token/refresh: only the refresh token works', async () => {
    const mfaToken = await loginForMfaToken(t, holder.subject);
    const aal1 = await deviceLogin(holder.subject);
    const kinds: Array<[string, string]> = [
      ['an mfa_token', mfaToken],
      ['an access token', holder.subject.accessToken],
      ['an aal1 access token', aal1.access_token],
      ['a recovery code', holder.recoveryCode],
      ['a device token', holder.subject.deviceToken],
      ['an SMS code', holder.smsLogin.code],
      ['the TOTP secret', holder.subject.secret],
      ...garbage(),
    ];
    for (const [kind, secret] of kinds) {
      expectOutcome(await postJson(t.app, '/v1/token/refresh', { refresh_token: secret }), invalidToken, `/v1/token/refresh with ${kind}`);
    }
    // The mfa_token was not spent by the attempt: it still completes its login.
    t.clock.advanceSeconds(30);
    expect((await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, holder.subject.secret) }, bearer(mfaToken))).statusCode).toBe(200);
    // The intended pair, and a refresh never raises assurance: the aal1 session stays aal1.
    const refreshed = await postJson(t.app, '/v1/token/refresh', { refresh_token: aal1.refresh_token });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    const before = decodeJwt(aal1.access_token);
    expect(decodeJwt(refreshed.json().access_token)).toMatchObject({ acr: 'aal1', amr: before['amr'], auth_time: before['auth_time'], sid: before['sid'] });
  });

  it('none of them was used up or changed anything: the account is as it was and every secret still works', async () => {
    const { subject } = holder;
    // Factors, sessions, devices and codes as they were.
    const factors = await t.ctx.db.selectFrom('factors').select(['id', 'label', 'status']).where('user_id', '=', subject.userId).orderBy('id').execute();
    expect(factors.map((factor) => factor.id).sort()).toEqual([subject.factorId, holder.smsFactorId, subject.pendingTotp.factorId].sort());
    expect(factors.every((factor) => factor.label === null)).toBe(true);
    expect(factors.find((factor) => factor.id === subject.pendingTotp.factorId)?.status).toBe('pending');
    const device = await t.ctx.db.selectFrom('trusted_devices').selectAll().where('id', '=', subject.deviceId).executeTakeFirstOrThrow();
    expect(device.revoked_at).toBeNull();
    const signUpSession = await t.ctx.db.selectFrom('sessions').select('state').where('id', '=', subject.sid).executeTakeFirstOrThrow();
    expect(signUpSession.state).toBe('active');
    // The SMS code still answers its challenge.
    const sms = await postJson(t.app, '/v1/mfa/verify', { challenge_id: holder.smsLogin.challengeId, code: holder.smsLogin.code }, bearer(holder.smsLogin.mfaToken));
    expect(sms.statusCode, sms.body).toBe(200);
    // The refresh token still rotates.
    expect((await postJson(t.app, '/v1/token/refresh', { refresh_token: holder.refreshToken })).statusCode).toBe(200);
    // The recovery code still logs in, once.
    const rc = await postJson(t.app, '/v1/mfa/verify', { recovery_code: holder.recoveryCode }, bearer(await loginForMfaToken(t, subject)));
    expect(rc.statusCode, rc.body).toBe(200);
    // The device token still stands in for the factor; the password is unchanged.
    expect((await deviceLogin(subject)).access_token).toBeDefined();
    expect((await getJson(t.app, '/v1/me', bearer(subject.accessToken))).statusCode).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// Each secret in each proof field of /v1/mfa/verify

describe('FL-02/RC-02: each secret in each proof field of /v1/mfa/verify (with a fresh mfa_token)', () => {
  type Field = 'code' | 'recovery_code' | 'device_token';
  const fields: Field[] = ['code', 'recovery_code', 'device_token'];
  const kinds = ['TOTP code', 'recovery code', 'device token', 'SMS code', 'access token', 'refresh token', 'another mfa_token', 'garbage'] as const;
  type Kind = (typeof kinds)[number];
  /** The pairs that complete a login. */
  const intended = new Set(['TOTP code→code', 'recovery code→recovery_code', 'device token→device_token', 'SMS code→code']);

  let subject: Subject;
  let phone: string;
  let smsFactorId: string;
  let spareRecoveryCodes: string[];

  beforeAll(async () => {
    subject = await buildSubject();
    phone = uniquePhone();
    const enroll = await enrollDestination(t, subject.accessToken, { type: 'sms', phone });
    expect(enroll.statusCode, enroll.body).toBe(201);
    smsFactorId = enroll.json().factor_id;
    const confirm = await postJson(t.app, `/v1/factors/${smsFactorId}/verify`, { code: await lastSentCode(t, phone), challenge_id: enroll.json().challenge_id }, bearer(subject.accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    // The SMS activation forgot the remembered browser: remember one again.
    t.clock.advanceSeconds(30);
    const remembered = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, subject.secret), remember_device: true }, bearer(await loginForMfaToken(t, subject)));
    subject = { ...subject, deviceToken: remembered.json().device_token };
    spareRecoveryCodes = [...subject.recoveryCodes];
  });

  /** A fresh login and the secret of `kind` (fresh where it is single-use). */
  async function prepare(kind: Kind): Promise<{ mfaToken: string; secret: string; challengeId?: string }> {
    if (kind === 'SMS code') {
      t.clock.advanceSeconds(31); // one code per destination per 30 s
      const mfaToken = await loginForMfaToken(t, subject);
      const challenge = await requestCode(t, mfaToken, smsFactorId);
      expect(challenge.statusCode, challenge.body).toBe(200);
      return { mfaToken, secret: await lastSentCode(t, phone), challengeId: challenge.json().challenge_id };
    }
    t.clock.advanceSeconds(30);
    const mfaToken = await loginForMfaToken(t, subject);
    switch (kind) {
      case 'TOTP code':
        return { mfaToken, secret: totpCode(t, subject.secret) };
      case 'recovery code':
        return { mfaToken, secret: spareRecoveryCodes.pop()! };
      case 'device token':
        return { mfaToken, secret: subject.deviceToken };
      case 'access token':
        return { mfaToken, secret: subject.accessToken };
      case 'refresh token':
        return { mfaToken, secret: subject.refreshToken };
      case 'another mfa_token':
        return { mfaToken, secret: await loginForMfaToken(t, subject) };
      default:
        return { mfaToken, secret: 'not-a-secret' };
    }
  }

  const cells = kinds.flatMap((kind) => fields.map((field) => [kind, field] as const));
  it.each(cells)('%s as "%s"', async (kind, field) => {
    const { mfaToken, secret, challengeId } = await prepare(kind);
    const body: Record<string, unknown> = { [field]: secret, ...(challengeId === undefined ? {} : { challenge_id: challengeId }) };
    const response = await postJson(t.app, '/v1/mfa/verify', body, bearer(mfaToken));
    const where = `${kind} as ${field}`;
    if (intended.has(`${kind}→${field}`)) {
      expect(response.statusCode, `${where}: ${response.body}`).toBe(200);
      const claims = decodeJwt(response.json().access_token);
      expect(claims['acr'], where).toBe(kind === 'device token' ? 'aal1' : 'aal2');
      return;
    }
    expect([400, 401, 403], `${where}: ${response.statusCode} ${response.body}`).toContain(response.statusCode);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body, where).not.toMatch(tokenShapes);
    // The login was not completed by the wrong proof.
    const session = await t.ctx.db.selectFrom('sessions').select('state').where('id', '=', decodeJwt(mfaToken)['sid'] as string).executeTakeFirstOrThrow();
    expect(session.state, where).not.toBe('active');
  });
});
