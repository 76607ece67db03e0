// The hosted pages under attack (SS-08, MG-05, JW-14, HT-02):
// every page form POSTed without its CSRF token, with a wrong one, with another browser's, without
// the cookie, or as another content type — refused (403 / 415 / 400) with no effect on the account,
// while the same form with its token does act (so "no effect" is not vacuous); the strict CSP on
// every page; __Host- cookie attributes on every Set-Cookie; return_to and `next` refusing every
// URL outside the allow-list; and no token in any Location header or link of a page.
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRoleFromCli } from '../../src/admin/index.js';
import { bearer, loginForMfaToken, postJson, registerUser, signUp, strongPassword, totpCode, uniqueUsername, type Registered } from '../helpers/flow.js';
import { lastSentCode, lastVerificationToken, outboxMessages } from '../helpers/outbox.js';
import { enrollDestination, uniquePhone } from '../helpers/otp.js';
import { generateTotpCode, totpStepAt } from '../../src/core/totp/verify.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';
import { totpKeyIn } from '../helpers/page-browser.js';
import { pagePostPathsOf } from '../helpers/routes.js';
import { createSoftAuthenticator, type SoftAuthenticator } from '../helpers/soft-authenticator.js';

let t: TestTwofold;
/** Every Set-Cookie header any page answered in this file (checked in the cookie test). */
const seenSetCookies: Array<{ url: string; header: string }> = [];

beforeAll(async () => {
  // E-mail codes on, so that the /enroll/email form has something to do.
  t = await startTestTwofold({ env: { TWOFOLD_FACTORS: 'totp,sms,webauthn,recovery,email' } });
});
afterAll(async () => t?.close());

const cookieNames = {
  csrf: '__Host-twofold-csrf',
  pending: '__Host-twofold-pending',
  access: '__Host-twofold-access',
  refresh: '__Host-twofold-refresh',
  returnTo: '__Host-twofold-return',
  device: '__Host-twofold-device',
};

function setCookiesOf(response: LightMyRequestResponse): string[] {
  const header = response.headers['set-cookie'];
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
}

/** A browser: a cookie jar in front of app.inject, recording every Set-Cookie it receives. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly server: () => TestTwofold) {}

  cookieHeader(omit: string[] = []): string {
    return [...this.cookies].filter(([name]) => !omit.includes(name)).map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async send(options: InjectOptions & { url: string }): Promise<LightMyRequestResponse> {
    const headers = { ...(this.cookies.size > 0 ? { cookie: this.cookieHeader() } : {}), ...(options.headers as Record<string, string> | undefined) };
    const response = await this.server().app.inject({ ...options, headers });
    for (const header of setCookiesOf(response)) {
      seenSetCookies.push({ url: options.url, header });
      const [pair] = header.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index);
      const value = decodeURIComponent(pair!.slice(index + 1));
      if (value === '' || /max-age=0\b/i.test(header) || /expires=thu, 01 jan 1970/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  get(url: string): Promise<LightMyRequestResponse> {
    return this.send({ method: 'GET', url });
  }

  /** A form POST with this browser's CSRF token (a page is loaded first when it has none). */
  async post(url: string, fields: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    if (!this.cookies.has(cookieNames.csrf)) await this.get('/sign-in');
    return this.send({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ csrf: this.csrf, ...fields }).toString() });
  }

  get csrf(): string {
    const token = this.cookies.get(cookieNames.csrf);
    if (token === undefined) throw new Error('this browser has no CSRF cookie yet');
    return token;
  }
}

const browser = (server: () => TestTwofold = () => t) => new Browser(server);

// ---------------------------------------------------------------------------------------------
// A victim with something for every form to change

interface Victim extends Registered {
  email: string;
  phone: string;
  smsFactorId: string;
  accessToken: string;
  refreshToken: string;
  pendingTotp: { factorId: string; secret: string };
  /** A phone being confirmed in the signed-in session (for "send a new code"). */
  pendingSms: { factorId: string };
  /** The victim's passkey (it signs in alone) and open request options of a passkey sign-in. */
  passkey: { authenticator: SoftAuthenticator; challengeId: string; options: Parameters<SoftAuthenticator['authenticate']>[0] };
  otherSession: string;
  deviceId: string;
  resetCode: string;
  /** The live verification link of the victim's (unverified) address. */
  verificationToken: string;
  /** Signed in (access + refresh + CSRF cookies), as after the sign-in page. */
  signedIn: Browser;
  /** Between the password and the second factor (pending + CSRF cookies). */
  pending: Browser;
  /** Nobody signed in (a CSRF cookie only). */
  anonymous: Browser;
  /** Another person, signed in with the admin role (the admin console's forms act on the victim). */
  admin: Browser;
}

const resetCodePattern = /\b([0-9A-HJKMNP-TV-Z]{5}(?:-[0-9A-HJKMNP-TV-Z]{5}){3})\b/;

async function buildVictim(): Promise<Victim> {
  const email = `${uniqueUsername('csrf')}@example.com`;
  const registered = await registerUser(t, { email });
  // Left unverified: the live link is a form to forge (/verify-email); reset codes go to the phone.
  const verificationToken = await lastVerificationToken(t, email);
  const confirmed = (await postJson(t.app, `/v1/factors/${registered.factorId}/verify`, { code: totpCode(t, registered.secret) }, bearer(registered.mfaToken))).json();
  const phone = uniquePhone();
  const sms = await enrollDestination(t, confirmed.access_token, { type: 'sms', phone });
  expect((await postJson(t.app, `/v1/factors/${sms.json().factor_id}/verify`, { code: await lastSentCode(t, phone), challenge_id: sms.json().challenge_id }, bearer(confirmed.access_token))).statusCode).toBe(200);
  // A passkey that signs in alone (with the recovery codes and the verified phone, enough to go
  // passwordless: the "Remove password" form), and the options of a passkey sign-in for it to answer.
  const authenticator = createSoftAuthenticator();
  const passkeyEnrollment = (await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(confirmed.access_token))).json();
  const passkeyCredential = authenticator.register(passkeyEnrollment.options);
  expect((await postJson(t.app, `/v1/factors/${passkeyEnrollment.factor_id}/verify`, { credential: passkeyCredential }, bearer(confirmed.access_token))).statusCode).toBe(200);
  const passkeyOptions = (await postJson(t.app, '/v1/passkeys/authenticate/options', {})).json();
  // Another session, with a remembered browser (after the factor change, which forgets them).
  t.clock.advanceSeconds(30);
  const other = (await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, registered.secret), remember_device: true }, bearer(await loginForMfaToken(t, registered)))).json();
  const device = await t.ctx.db.selectFrom('trusted_devices').select('id').where('user_id', '=', registered.userId).executeTakeFirstOrThrow();
  const pendingTotp = (await postJson(t.app, '/v1/factors', { type: 'totp', label: 'unconfirmed' }, bearer(confirmed.access_token))).json();
  const pendingSms = (await enrollDestination(t, confirmed.access_token, { type: 'sms', phone: uniquePhone() })).json();
  // A live password reset code.
  expect((await postJson(t.app, '/v1/password/forgot', { username: registered.username })).statusCode).toBe(202);
  await t.ctx.background.flush();
  const message = (await outboxMessages(t, phone)).find((candidate) => candidate.purpose === 'password_reset');
  const resetCode = message === undefined ? undefined : resetCodePattern.exec(message.body)?.[1];
  if (resetCode === undefined) throw new Error('no reset code was sent');

  const signedIn = browser();
  await signedIn.get('/sign-in');
  signedIn.cookies.set(cookieNames.access, confirmed.access_token);
  signedIn.cookies.set(cookieNames.refresh, confirmed.refresh_token);
  const pending = browser();
  await pending.get('/sign-in');
  pending.cookies.set(cookieNames.pending, await loginForMfaToken(t, registered));
  const anonymous = browser();
  await anonymous.get('/sign-in');
  const adminUser = await signUp(t, { username: uniqueUsername('csrfadmin') });
  await grantRoleFromCli(t.ctx, adminUser.username, 'admin', 'csrf test');
  const admin = browser();
  await admin.get('/sign-in');
  admin.cookies.set(cookieNames.access, adminUser.accessToken);
  admin.cookies.set(cookieNames.refresh, adminUser.refreshToken);
  return {
    ...registered,
    email,
    phone,
    smsFactorId: sms.json().factor_id,
    accessToken: confirmed.access_token,
    refreshToken: confirmed.refresh_token,
    pendingTotp: { factorId: pendingTotp.factor_id, secret: pendingTotp.secret },
    pendingSms: { factorId: pendingSms.factor_id },
    passkey: { authenticator, challengeId: passkeyOptions.challenge_id, options: passkeyOptions.options },
    otherSession: JSON.parse(Buffer.from(other.access_token.split('.')[1], 'base64url').toString()).sid,
    deviceId: device.id,
    resetCode,
    verificationToken,
    signedIn,
    pending,
    anonymous,
    admin,
  };
}

/** Everything a form could change about the victim (and whether a sign-up happened). */
async function stateOf(victim: Victim, signUpName: string) {
  await t.ctx.background.flush();
  const db = t.ctx.db;
  const userId = victim.userId;
  return {
    user: await db.selectFrom('users').select(['password_hash', 'email', 'email_verified_at', 'passkey_offer_dismissed_at', 'locked_at', 'delete_after', 'password_reset_required_at']).where('id', '=', userId).executeTakeFirstOrThrow(),
    signUps: (await db.selectFrom('users').select('id').where('username', '=', signUpName).execute()).length,
    factors: await db.selectFrom('factors').select(['id', 'label', 'status', 'last_used_step']).where('user_id', '=', userId).orderBy('id').execute(),
    sessions: await db.selectFrom('sessions').select(['id', 'state', 'auth_time', 'mfa_attempts']).where('user_id', '=', userId).orderBy('id').execute(),
    devices: await db.selectFrom('trusted_devices').select(['id', 'revoked_at']).where('user_id', '=', userId).orderBy('id').execute(),
    recoveryCodes: await db.selectFrom('recovery_codes').select(['id', 'used_at']).where('user_id', '=', userId).orderBy('id').execute(),
    challenges: await db.selectFrom('challenges').select(['id', 'used_at', 'superseded_at']).where('user_id', '=', userId).orderBy('id').execute(),
    resets: await db.selectFrom('password_resets').select(['id', 'used_at', 'attempts']).where('user_id', '=', userId).orderBy('id').execute(),
    sent: (await outboxMessages(t, victim.phone)).length + (await outboxMessages(t, victim.email)).length,
  };
}

type Who = 'signedIn' | 'pending' | 'anonymous' | 'admin';

interface FormSpec {
  who: Who;
  url(victim: Victim): string;
  /** The form's fields, valid for the victim: sent with the right token, they change something. */
  fields(victim: Victim, signUpName: string): Record<string, string>;
  /**
   * For a POST whose only effect is its answer (request options: a challenge kept in the
   * short-lived store, not in the account), what the answer with the token holds.
   */
  answered?(response: LightMyRequestResponse): void;
  /** Puts the victim in the state the form changes back (an account to unlock), before anything is measured. */
  prepare?(victim: Victim): Promise<void>;
}

/** An admin console action on the victim, with its reason; `undo`: the action whose effect this one reverses (done first). */
function adminForm(slug: string, undo?: string): FormSpec {
  return {
    who: 'admin',
    url: (v) => `/admin/users/${v.userId}/${slug}`,
    fields: () => ({ reason: 'CSRF test (ticket 0)' }),
    ...(undo === undefined ? {} : { prepare: async (v: Victim) => void expect((await v.admin.post(`/admin/users/${v.userId}/${undo}`, { reason: 'CSRF test setup' })).statusCode).toBe(303) }),
  };
}

/** Every form the pages POST (the test below checks this list against the server's routes). */
const forms: Record<string, FormSpec> = {
  '/sign-up': { who: 'anonymous', url: () => '/sign-up', fields: (_v, name) => ({ username: name, password: strongPassword }) },
  '/sign-in': { who: 'anonymous', url: () => '/sign-in', fields: (v) => ({ username: v.username, password: v.password }) },
  '/sign-in/verify': { who: 'pending', url: () => '/sign-in/verify', fields: (v) => ({ code: totpCode(t, v.secret) }) },
  '/sign-in/challenge': { who: 'pending', url: () => '/sign-in/challenge', fields: (v) => ({ factor_id: v.smsFactorId }) },
  '/sign-in/cancel': { who: 'pending', url: () => '/sign-in/cancel', fields: () => ({}) },
  '/sign-in/passkey/options': { who: 'anonymous', url: () => '/sign-in/passkey/options', fields: () => ({}), answered: (response) => expect(JSON.parse(response.body).challenge_id).toMatch(/^chl_/) },
  '/sign-in/passkey': {
    who: 'anonymous',
    url: () => '/sign-in/passkey',
    fields: (v) => ({ challenge_id: v.passkey.challengeId, credential: JSON.stringify(v.passkey.authenticator.authenticate(v.passkey.options)) }),
  },
  '/account/passkey-offer/dismiss': { who: 'signedIn', url: () => '/account/passkey-offer/dismiss', fields: () => ({}) },
  '/sign-out': { who: 'signedIn', url: () => '/sign-out', fields: () => ({}) },
  '/enroll/phone': { who: 'signedIn', url: () => '/enroll/phone', fields: () => ({ phone: uniquePhone() }) },
  '/enroll/email': { who: 'signedIn', url: () => '/enroll/email', fields: () => ({ email: `${uniqueUsername('new')}@example.com` }) },
  '/enroll/passkey': { who: 'signedIn', url: () => '/enroll/passkey', fields: () => ({ label: 'forged' }) },
  '/enroll/resend': { who: 'signedIn', url: () => '/enroll/resend', fields: (v) => ({ factor_id: v.pendingSms.factorId }) },
  '/enroll/confirm': { who: 'signedIn', url: () => '/enroll/confirm', fields: (v) => ({ factor_id: v.pendingTotp.factorId, code: totpCode(t, v.pendingTotp.secret) }) },
  '/account/factors/:id/rename': { who: 'signedIn', url: (v) => `/account/factors/${v.factorId}/rename`, fields: () => ({ label: 'forged' }) },
  '/account/factors/:id/remove': { who: 'signedIn', url: (v) => `/account/factors/${v.pendingTotp.factorId}/remove`, fields: () => ({}) },
  '/account/sessions/:id/revoke': { who: 'signedIn', url: (v) => `/account/sessions/${v.otherSession}/revoke`, fields: () => ({}) },
  '/account/devices/:id/forget': { who: 'signedIn', url: (v) => `/account/devices/${v.deviceId}/forget`, fields: () => ({}) },
  '/account/password/remove': { who: 'signedIn', url: () => '/account/password/remove', fields: () => ({}) },
  '/account/password': { who: 'signedIn', url: () => '/account/password', fields: (v) => ({ current_password: v.password, new_password: 'a forged new passphrase' }) },
  '/account/recovery-codes': { who: 'signedIn', url: () => '/account/recovery-codes', fields: () => ({}) },
  '/account/challenge': { who: 'signedIn', url: () => '/account/challenge', fields: (v) => ({ factor_id: v.smsFactorId }) },
  '/account/verify': { who: 'signedIn', url: () => '/account/verify', fields: (v) => ({ code: totpCode(t, v.secret) }) },
  '/forgot-password': { who: 'anonymous', url: () => '/forgot-password', fields: (v) => ({ username: v.username }) },
  '/verify-email': { who: 'anonymous', url: () => '/verify-email', fields: (v) => ({ token: v.verificationToken }) },
  '/account/email': { who: 'signedIn', url: () => '/account/email', fields: () => ({ email: `${uniqueUsername('forged')}@example.com` }) },
  '/account/email/verification': { who: 'signedIn', url: () => '/account/email/verification', fields: () => ({}) },
  '/admin/users/:id/reset-second-factors': adminForm('reset-second-factors'),
  '/admin/users/:id/end-sessions': adminForm('end-sessions'),
  '/admin/users/:id/lock': adminForm('lock'),
  '/admin/users/:id/unlock': adminForm('unlock', 'lock'),
  '/admin/users/:id/force-password-reset': adminForm('force-password-reset'),
  '/admin/users/:id/delete': adminForm('delete'),
  '/admin/users/:id/cancel-deletion': adminForm('cancel-deletion', 'delete'),
  '/reset-password': { who: 'anonymous', url: () => '/reset-password', fields: (v) => ({ username: v.username, code: v.resetCode, new_password: 'a forged new passphrase' }) },
};

interface Forgery {
  name: string;
  request(victim: Browser, attacker: Browser, url: string, fields: Record<string, string>): InjectOptions & { url: string };
  statuses: number[];
}

const form = (fields: Record<string, string> | Array<[string, string]>) => new URLSearchParams(fields).toString();
const formType = { 'content-type': 'application/x-www-form-urlencoded' };

const forgeries: Forgery[] = [
  { name: 'without the csrf field', request: (v, _a, url, fields) => ({ method: 'POST', url, headers: { ...formType, cookie: v.cookieHeader() }, payload: form(fields) }), statuses: [403] },
  { name: 'with an empty csrf field', request: (v, _a, url, fields) => ({ method: 'POST', url, headers: { ...formType, cookie: v.cookieHeader() }, payload: form({ ...fields, csrf: '' }) }), statuses: [403] },
  {
    name: 'with a wrong csrf field',
    request: (v, _a, url, fields) => ({ method: 'POST', url, headers: { ...formType, cookie: v.cookieHeader() }, payload: form({ ...fields, csrf: 'B'.repeat(43) }) }),
    statuses: [403],
  },
  {
    name: 'with the csrf token of another browser (the attacker’s own session)',
    request: (v, a, url, fields) => ({ method: 'POST', url, headers: { ...formType, cookie: v.cookieHeader() }, payload: form({ ...fields, csrf: a.csrf }) }),
    statuses: [403],
  },
  {
    name: 'with the right csrf field but no csrf cookie',
    request: (v, _a, url, fields) => ({ method: 'POST', url, headers: { ...formType, cookie: v.cookieHeader([cookieNames.csrf]) }, payload: form({ ...fields, csrf: v.csrf }) }),
    statuses: [403],
  },
  {
    name: 'with the csrf field twice (an array)',
    request: (v, _a, url, fields) => ({ method: 'POST', url, headers: { ...formType, cookie: v.cookieHeader() }, payload: form([...Object.entries(fields), ['csrf', v.csrf], ['csrf', v.csrf]]) }),
    statuses: [403],
  },
  {
    name: 'as text/plain (a cross-site form’s enctype), with the right token',
    request: (v, _a, url, fields) => ({ method: 'POST', url, headers: { 'content-type': 'text/plain', cookie: v.cookieHeader() }, payload: form({ ...fields, csrf: v.csrf }) }),
    statuses: [415],
  },
  {
    name: 'as multipart/form-data (a cross-site form’s enctype), with the right token',
    request: (v, _a, url, fields) => {
      const boundary = 'XyZ';
      const parts = Object.entries({ ...fields, csrf: v.csrf }).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
      return { method: 'POST', url, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, cookie: v.cookieHeader() }, payload: `${parts.join('')}--${boundary}--\r\n` };
    },
    statuses: [415],
  },
  {
    name: 'as a form body labelled application/json, with the right token',
    request: (v, _a, url, fields) => ({ method: 'POST', url, headers: { 'content-type': 'application/json', cookie: v.cookieHeader() }, payload: form({ ...fields, csrf: v.csrf }) }),
    statuses: [400, 403, 415],
  },
  {
    name: 'without a content type, with the right token',
    request: (v, _a, url, fields) => ({ method: 'POST', url, headers: { cookie: v.cookieHeader() }, payload: form({ ...fields, csrf: v.csrf }) }),
    statuses: [403, 415],
  },
  { name: 'without a body', request: (v, _a, url) => ({ method: 'POST', url, headers: { cookie: v.cookieHeader() } }), statuses: [403] },
];

function expectPageRefusal(response: LightMyRequestResponse, statuses: number[], where: string): void {
  expect(statuses, `${where}: ${response.statusCode} ${response.headers.location ?? ''} ${response.body.slice(0, 200)}`).toContain(response.statusCode);
  expect(response.headers['content-type'], where).toMatch(/^text\/html/);
  expect(response.headers['content-security-policy'], where).toContain("frame-ancestors 'none'");
  expect(response.headers.location, where).toBeUndefined();
  // A refused form sets no session cookie (a new CSRF cookie is fine).
  for (const header of setCookiesOf(response)) expect(header, where).toMatch(/^__Host-twofold-csrf=/);
}

describe('SS-08: the page forms refuse requests without their CSRF token', () => {
  it('the form list covers every POST route of the pages', async () => {
    const listed = Object.keys(forms);
    for (const path of listed) expect(t.app.hasRoute({ method: 'POST', url: path })).toBe(true);
    // Every POST route outside the API (/v1/…) is a page form in the list.
    const pagePaths = pagePostPathsOf(t.app);
    expect(pagePaths.sort()).toEqual([...listed].sort());
  });

  describe.each(Object.entries(forms))('POST %s', (name, spec) => {
    it('each forgery is refused and changes nothing; the same form with its token does act', async () => {
      const victim = await buildVictim();
      const attacker = browser();
      await attacker.get('/sign-in');
      const signUpName = uniqueUsername('forged');
      const own = victim[spec.who];
      await spec.prepare?.(victim);
      // Codes for the forms that take one are computed at the moment they are sent.
      t.clock.advanceSeconds(31); // fresh TOTP step, and past the SMS resend interval
      const before = await stateOf(victim, signUpName);
      for (const forgery of forgeries) {
        const response = await t.app.inject(forgery.request(own, attacker, spec.url(victim), spec.fields(victim, signUpName)));
        expectPageRefusal(response, forgery.statuses, `${name} ${forgery.name}`);
      }
      expect(await stateOf(victim, signUpName), `${name}: a forged request changed the account`).toEqual(before);

      // Control: the victim's own browser, with its token.
      const genuine = await own.post(spec.url(victim), spec.fields(victim, signUpName));
      expect(genuine.statusCode, `${name} with its token: ${genuine.statusCode} ${genuine.body.slice(0, 300)}`).toBeLessThan(400);
      if (spec.answered !== undefined) spec.answered(genuine);
      else expect(await stateOf(victim, signUpName), `${name} with its token changed nothing: the control is broken`).not.toEqual(before);
    });
  });
});


// ---------------------------------------------------------------------------------------------
// Signing up and in through the pages, the way a browser does

async function signUpThroughPages(b: Browser): Promise<{ username: string; secret: string }> {
  const username = uniqueUsername('page');
  await b.get('/sign-up');
  const created = await b.post('/sign-up', { username, password: strongPassword });
  expect(created.statusCode, created.body.slice(0, 300)).toBe(303);
  expect(created.headers.location).toBe('/enroll');
  const page = await b.get('/enroll/totp');
  expect(page.statusCode).toBe(200);
  const secret = totpKeyIn(page.body);
  const factorId = /name="factor_id" value="([^"]+)"/.exec(page.body)![1]!;
  const confirmed = await b.post('/enroll/confirm', { factor_id: factorId, code: totpCode(t, secret) });
  expect(confirmed.statusCode, confirmed.body.slice(0, 300)).toBe(200);
  expect(b.cookies.has(cookieNames.access)).toBe(true);
  return { username, secret };
}

async function signInThroughPages(b: Browser, user: { username: string; secret: string }, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  t.clock.advanceSeconds(30);
  await b.get('/sign-in');
  const password = await b.post('/sign-in', { username: user.username, password: strongPassword });
  expect(password.statusCode, password.body.slice(0, 300)).toBe(303);
  expect(password.headers.location).toBe('/sign-in/verify');
  await b.get('/sign-in/verify');
  return b.post('/sign-in/verify', { code: totpCode(t, user.secret), ...extra });
}

// ---------------------------------------------------------------------------------------------

const tokenPattern = /eyJ[A-Za-z0-9_-]{10,}\.eyJ|tfr_[A-Za-z0-9_-]{20,}|tfd_[A-Za-z0-9_-]{20,}/;

/** Every page a browser can GET, in the state it needs. */
async function visitEveryPage(): Promise<Array<{ url: string; state: string; response: LightMyRequestResponse; secrets: string[] }>> {
  const visits: Array<{ url: string; state: string; response: LightMyRequestResponse; secrets: string[] }> = [];
  const secretsOf = (b: Browser) => [...b.cookies.entries()].filter(([name]) => name !== cookieNames.csrf).map(([, value]) => value);
  const visit = async (b: Browser, state: string, url: string) => visits.push({ url, state, response: await b.get(url), secrets: secretsOf(b) });

  const anonymous = browser();
  for (const url of ['/', '/sign-up', '/sign-in', '/sign-in?done=signed-out', '/sign-in/verify', '/enroll', '/account', '/account/verify', '/forgot-password', '/reset-password', '/assets/app.js', '/assets/style.css', '/assets/favicon.svg', '/favicon.ico']) {
    await visit(anonymous, 'anonymous', url);
  }
  // Right after sign-up: a pending sign-in with no factor yet.
  const fresh = browser();
  await fresh.get('/sign-up');
  await fresh.post('/sign-up', { username: uniqueUsername('visit'), password: strongPassword });
  for (const url of ['/enroll', '/enroll/totp', '/sign-in/verify', '/account', '/sign-up']) await visit(fresh, 'pending enrollment', url);

  const member = browser();
  const user = await signUpThroughPages(member);
  for (const url of ['/', '/account', '/account?done=verified', '/account/events', '/account/verify', '/account/verify?method=recovery', '/account/verify?next=/enroll', '/enroll', '/enroll/totp', '/sign-in', '/sign-up']) {
    await visit(member, 'signed in', url);
  }
  // The admin console, as an admin (the member, given the role) sees it.
  await grantRoleFromCli(t.ctx, user.username, 'admin', 'csrf test');
  const memberId = (await t.ctx.db.selectFrom('users').select('id').where('username', '=', user.username).executeTakeFirstOrThrow()).id;
  for (const url of ['/admin', `/admin?q=${user.username}`, `/admin/users/${memberId}`, `/admin/users/${memberId}?done=lock`, `/admin/users/${memberId}/end-sessions`]) await visit(member, 'signed in as an admin', url);
  await visit(anonymous, 'anonymous', '/admin');
  const waiting = browser();
  t.clock.advanceSeconds(30);
  await waiting.get('/sign-in');
  await waiting.post('/sign-in', { username: user.username, password: strongPassword });
  for (const url of ['/sign-in/verify', '/sign-in/verify?method=recovery', '/sign-in']) await visit(waiting, 'pending sign-in', url);
  // An expired access cookie: the page renews it from the refresh cookie.
  t.clock.advanceSeconds(11 * 60);
  await visit(member, 'signed in, access cookie expired', '/account');
  return visits;
}

describe('HT-02/SS-08: page headers', () => {
  let visits: Awaited<ReturnType<typeof visitEveryPage>>;
  beforeAll(async () => {
    visits = await visitEveryPage();
  });

  it('every page carries the strict CSP: no unsafe-inline, no unsafe-eval, frame-ancestors none', () => {
    expect(visits.length).toBeGreaterThan(25);
    for (const { url, state, response } of visits) {
      const where = `${state} GET ${url} (${response.statusCode})`;
      expect(response.statusCode, where).toBeLessThan(500);
      const policy = response.headers['content-security-policy'];
      expect(typeof policy, where).toBe('string');
      const directives = new Map(String(policy).split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
      expect(String(policy), where).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|wasm-unsafe-eval|strict-dynamic/);
      expect(directives.get('frame-ancestors'), where).toEqual(["'none'"]);
      expect(directives.get('default-src'), where).toEqual(["'none'"]);
      expect(directives.get('script-src'), where).toEqual(["'self'"]);
      expect(directives.get('base-uri'), where).toEqual(["'none'"]);
      expect(directives.get('form-action'), where).toEqual(["'self'"]);
      expect(response.headers['x-frame-options'], where).toBe('DENY');
      expect(response.headers['x-content-type-options'], where).toBe('nosniff');
    }
  });

  it('pages contain no inline script, event handler or javascript: URL (the CSP would block them)', () => {
    for (const { url, state, response } of visits) {
      if (!String(response.headers['content-type']).startsWith('text/html')) continue;
      const where = `${state} GET ${url}`;
      expect(response.body, where).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(response.body, where).not.toMatch(/\son[a-z]+\s*=/i);
      expect(response.body, where).not.toMatch(/javascript:/i);
    }
  });

  it('JW-14: no page puts a token in a Location header, a link, a form action or anywhere in its body', () => {
    for (const { url, state, response, secrets } of visits) {
      const where = `${state} GET ${url} (${response.statusCode} → ${response.headers.location ?? ''})`;
      const location = String(response.headers.location ?? '');
      expect(location, where).not.toMatch(tokenPattern);
      expect(location, where).not.toMatch(/token|code=/i);
      const links = [...response.body.matchAll(/\b(?:href|src|action|formaction)="([^"]*)"/g)].map((match) => match[1]!);
      for (const link of links) expect(link, where).not.toMatch(tokenPattern);
      if (!String(response.headers['content-type']).startsWith('text/html')) continue;
      expect(response.body, where).not.toMatch(tokenPattern);
      for (const secret of secrets) expect(response.body.includes(secret), `${where} shows a cookie's token`).toBe(false);
    }
  });

  it('SS-08: every Set-Cookie of the pages is __Host- with Secure, HttpOnly, SameSite=Strict, Path=/ and no Domain', async () => {
    // Also the cookies set and cleared by remembering a browser and signing out.
    const member = browser();
    const user = await signUpThroughPages(member);
    const remembered = await signInThroughPages(browser(), user, { remember_device: '1' });
    expect(remembered.statusCode).toBe(303);
    expect(await member.post('/sign-out')).toMatchObject({ statusCode: 303 });
    const names = new Set<string>();
    expect(seenSetCookies.length).toBeGreaterThan(10);
    for (const { url, header } of seenSetCookies) {
      const where = `${url}: ${header}`;
      const [pair, ...attributes] = header.split(';').map((part) => part.trim());
      const name = pair!.slice(0, pair!.indexOf('='));
      names.add(name);
      const attrs = attributes.map((attribute) => attribute.toLowerCase());
      expect(name, where).toMatch(/^__Host-/);
      expect(attrs, where).toContain('secure');
      expect(attrs, where).toContain('httponly');
      expect(attrs, where).toContain('samesite=strict');
      expect(attrs, where).toContain('path=/');
      expect(attrs.some((attribute) => attribute.startsWith('domain')), where).toBe(false);
    }
    expect([...names]).toEqual(expect.arrayContaining([cookieNames.csrf, cookieNames.pending, cookieNames.access, cookieNames.refresh, cookieNames.device]));
  });
});

// ---------------------------------------------------------------------------------------------

describe('return_to and next: no open redirect', () => {
  let r: TestTwofold;
  const allowed = 'https://app.example.com';
  beforeAll(async () => {
    r = await startTestTwofold({ env: { TWOFOLD_ALLOWED_REDIRECTS: allowed } });
  });
  afterAll(async () => r?.close());

  const refused = [
    'https://evil.example.com/',
    'https://app.example.com.evil.com/',
    'https://app.example.com@evil.com/',
    'https://user:password@app.example.com/',
    'https://app.example.com%2F@evil.com/',
    'https://evil.com/?next=https://app.example.com',
    'https://evil.com/#https://app.example.com',
    'http://app.example.com/',
    'https://app.example.com:8443/',
    'https://app.example.co/',
    'https://app.example.comm/',
    'ftp://app.example.com/',
    'wss://app.example.com/',
    '//evil.com/',
    '///evil.com/',
    '/\\evil.com',
    '\\\\evil.com',
    'https:evil.com',
    'https:/evil.com',
    ' https://evil.com',
    '\thttps://evil.com',
    'javascript:alert(document.domain)',
    'JaVaScRiPt:alert(1)//https://app.example.com',
    'data:text/html,<script>alert(1)</script>',
    'https://evil.com\\.app.example.com',
    'https://app.example.com.',
    '/account',
    '',
  ];

  const visitor = () => new Browser(() => r);

  async function signedUpMember(): Promise<{ b: Browser; user: { username: string; secret: string } }> {
    const b = visitor();
    const username = uniqueUsername('ret');
    await b.get('/sign-up');
    await b.post('/sign-up', { username, password: strongPassword });
    const page = await b.get('/enroll/totp');
    const secret = totpKeyIn(page.body);
    const factorId = /name="factor_id" value="([^"]+)"/.exec(page.body)![1]!;
    expect((await b.post('/enroll/confirm', { factor_id: factorId, code: generateCode(secret) })).statusCode).toBe(200);
    return { b, user: { username, secret } };
  }
  const generateCode = (secret: string) => generateTotpCode(secret, totpStepAt(r.clock.now()));

  async function signIn(b: Browser, user: { username: string; secret: string }): Promise<LightMyRequestResponse> {
    r.clock.advanceSeconds(30);
    const password = await b.post('/sign-in', { username: user.username, password: strongPassword });
    expect(password.headers.location).toBe('/sign-in/verify');
    return b.post('/sign-in/verify', { code: generateCode(user.secret) });
  }

  it('control: an allow-listed return_to is remembered and used after signing in', async () => {
    const { user } = await signedUpMember();
    const b = visitor();
    const page = await b.get(`/sign-in?return_to=${encodeURIComponent(`${allowed}/after?x=1`)}`);
    expect(page.statusCode).toBe(200);
    expect(b.cookies.get(cookieNames.returnTo)).toBe(`${allowed}/after?x=1`);
    expect((await signIn(b, user)).headers.location).toBe(`${allowed}/after?x=1`);
  });

  it.each(refused.map((url) => [url] as const))('refuses return_to=%j: not remembered, and signing in lands on /account', async (url) => {
    const { b: member, user } = await signedUpMember();
    // Signed in already: /sign-in?return_to=… redirects at once — but never there.
    const direct = await member.get(`/sign-in?return_to=${encodeURIComponent(url)}`);
    expect(direct.statusCode).toBe(303);
    expect(direct.headers.location).toBe('/account');
    // Not signed in: the URL is not remembered, and the sign-in ends on /account.
    const b = visitor();
    const page = await b.get(`/sign-in?return_to=${encodeURIComponent(url)}`);
    expect(page.statusCode).toBe(200);
    expect(b.cookies.has(cookieNames.returnTo)).toBe(false);
    expect((await signIn(b, user)).headers.location).toBe('/account');
  });

  it('a return cookie forged by the client is checked again: the sign-in still lands on /account', async () => {
    const { user } = await signedUpMember();
    for (const url of ['https://evil.example.com/', 'javascript:alert(1)', '//evil.com']) {
      const b = visitor();
      await b.get('/sign-in');
      b.cookies.set(cookieNames.returnTo, url);
      expect((await signIn(b, user)).headers.location).toBe('/account');
    }
  });

  it('the step-up page’s `next` only ever leads to a local path', async () => {
    const { b, user } = await signedUpMember();
    const local = (url: string) => new URL(url, 'http://twofold.test').origin === 'http://twofold.test';
    for (const next of ['//evil.com', '///evil.com', 'https://evil.example.com/', '/\\evil.com', '/%5Cevil.com', '\\\\evil.com', 'javascript:alert(1)', `${allowed}/x`, ' //evil.com']) {
      const page = await b.get(`/account/verify?next=${encodeURIComponent(next)}`);
      expect(page.statusCode).toBe(200);
      for (const hidden of [...page.body.matchAll(/name="next" value="([^"]*)"/g)].map((match) => match[1]!)) {
        expect(local(hidden), `next=${next} → hidden ${hidden}`).toBe(true);
      }
      r.clock.advanceSeconds(30);
      const done = await b.post('/account/verify', { code: generateCode(user.secret), next });
      expect(done.statusCode, done.body.slice(0, 200)).toBe(303);
      const location = String(done.headers.location);
      expect(location.startsWith('/') && local(location), `next=${next} → ${location}`).toBe(true);
    }
  });
});
