// Forward-auth end to end through app.inject (FA-17..FA-33): the proxy's sub-request (Caddy's
// X-Forwarded-* and nginx's X-Original-URL), sign-in through the portal's hosted pages with a
// password and TOTP, the domain cookie, each policy of the rules file, a max_age step-up as time
// passes, users and methods, logout, sessions ended elsewhere, a cookie of one domain on another,
// and API clients with a bearer or DPoP access token. The real proxies are in test/proxies/.
import { createLocalJWKSet, jwtVerify } from 'jose';
import { sha256Base64url } from '../../src/core/crypto/digest.js';
import { createDpopTestKey, makeDpopProof } from '../helpers/dpop-proofs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, expectProblem, getJson, loginForMfaToken, postJson, signIn, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { PageBrowser } from '../helpers/page-browser.js';
import { ask, faCookie, localOf, signInForApp, startForwardAuthTwofold } from '../helpers/forward-auth.js';
import type { TestTwofold } from '../helpers/twofold.js';

const alice = `faalice${process.pid}`;
const bob = `fabob${process.pid}`;

const rules = `
default: two_factor
rules:
  - hosts: [status.twofold.test]
    policy: bypass
  - hosts: ["*.twofold.test", "*.other.test"]
    paths: ["/private/**"]
    policy: deny
  - hosts: ["*.twofold.test"]
    paths: ["/admin/**"]
    policy: two_factor
    max_age: 300
  - hosts: ["*.twofold.test"]
    paths: ["/alice/**"]
    users: [${alice}]
    policy: one_factor
  - hosts: ["*.twofold.test"]
    paths: ["/write/**"]
    methods: [POST]
    policy: deny
  - hosts: ["*.twofold.test"]
    paths: ["/keys/**"]
    policy: phishing_resistant
`;

let t: TestTwofold;
let a: SignedUp;
let b: SignedUp;
beforeAll(async () => {
  t = await startForwardAuthTwofold(rules);
  a = await signUp(t, { username: alice });
  b = await signUp(t, { username: bob });
});
afterAll(async () => t?.close());

describe('forward-auth: no session', () => {
  it('FA-17: a bypass rule answers 200 without a session and without identity headers', async () => {
    const response = await ask(t, 'https://status.twofold.test/health');
    expect(response.statusCode).toBe(200);
    expect(response.headers['remote-user']).toBeUndefined();
    expect(response.headers['x-twofold-assertion']).toBeUndefined();
  });

  it('FA-18: without a session, Caddy is sent to the portal sign-in with the original URL as rd; nginx gets 401', async () => {
    const caddy = await ask(t, 'https://app.twofold.test/page?x=1');
    expect(caddy.statusCode).toBe(302);
    expect(caddy.headers.location).toBe(`http://twofold.test/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.twofold.test/page?x=1')}`);
    const nginx = await ask(t, 'https://app.twofold.test/page', { flavour: 'nginx' });
    expectProblem(nginx, 401, 'invalid_token');
    // A domain with a portal of its own is sent there.
    const other = await ask(t, 'https://app.other.test/');
    expect(other.headers.location).toBe(`http://auth.other.test/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.other.test/')}`);
  });

  it('FA-19: a deny rule answers 403 forward_auth_denied without a session too', async () => {
    expectProblem(await ask(t, 'https://app.twofold.test/private/x'), 403, 'forward_auth_denied');
    expectProblem(await ask(t, 'https://app.twofold.test/private/x', { flavour: 'nginx' }), 403, 'forward_auth_denied');
  });

  it('FA-19: a host outside every cookie domain cannot be signed in for: 403, not a redirect', async () => {
    expectProblem(await ask(t, 'https://elsewhere.example/'), 403, 'forward_auth_denied');
  });
});

describe('forward-auth: signed in through the portal', () => {
  let cookie: string;
  let browser: PageBrowser;
  beforeAll(async () => {
    ({ cookie, b: browser } = await signInForApp(t, a, 'https://app.twofold.test/page?x=1'));
  });

  it('FA-20: the callback sets the domain cookie: Domain=<parent>, Secure, HttpOnly, SameSite=Lax, Path=/', async () => {
    const b2 = new PageBrowser(t);
    for (const [name, value] of browser.cookies) if (name !== faCookie) b2.cookies.set(name, value);
    const callback = await b2.get(`/v1/forward-auth/callback?rd=${encodeURIComponent('https://app.twofold.test/')}`);
    expect(callback.statusCode).toBe(302);
    const line = ([] as string[]).concat(callback.headers['set-cookie'] as string[] | string).find((header) => header.startsWith(`${faCookie}=`))!;
    expect(line).toMatch(/Domain=twofold\.test/);
    expect(line).toMatch(/Path=\//);
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/Secure/);
    expect(line).toMatch(/SameSite=Lax/);
  });

  it('FA-21: the cookie passes a two_factor request: 200 with Remote-User, Remote-Acr, Remote-Amr and a signed assertion for the host', async () => {
    for (const flavour of ['caddy', 'nginx'] as const) {
      const response = await ask(t, 'https://app.twofold.test/page', { cookie, flavour });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['remote-user']).toBe(alice);
      expect(response.headers['remote-acr']).toBe('aal2');
      expect(response.headers['remote-amr']).toBe('pwd,otp,mfa');
      const jwks = createLocalJWKSet((await getJson(t.app, '/.well-known/jwks.json')).json());
      const { payload, protectedHeader } = await jwtVerify(response.headers['x-twofold-assertion'] as string, jwks, {
        issuer: 'http://twofold.test',
        audience: 'https://app.twofold.test',
        typ: 'twofold-assertion+jwt',
        currentDate: new Date(t.clock.now()),
      });
      expect(protectedHeader.typ).toBe('twofold-assertion+jwt');
      expect(payload).toMatchObject({ sub: a.userId, username: alice, acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
      expect(payload.exp! - payload.iat!).toBe(60);
      expect(typeof payload['sid']).toBe('string');
    }
    // The same assertion is handed out while at least half of its life is left, then a new one.
    const first = (await ask(t, 'https://app.twofold.test/page', { cookie })).headers['x-twofold-assertion'];
    expect((await ask(t, 'https://app.twofold.test/other', { cookie })).headers['x-twofold-assertion']).toBe(first);
    expect((await ask(t, 'https://app2.twofold.test/', { cookie })).headers['x-twofold-assertion']).not.toBe(first);
    t.clock.advanceSeconds(31);
    expect((await ask(t, 'https://app.twofold.test/page', { cookie })).headers['x-twofold-assertion']).not.toBe(first);
  });

  it('FA-22: users: a rule listing other people answers 403 to this one and 200 to those listed', async () => {
    expect((await ask(t, 'https://app.twofold.test/alice/home', { cookie })).statusCode).toBe(200);
    const other = await signInForApp(t, b, 'https://app.twofold.test/');
    const refused = expectProblem(await ask(t, 'https://app.twofold.test/alice/home', { cookie: other.cookie }), 403, 'forward_auth_denied');
    expect(refused['reason']).toBe('user_not_allowed');
    const events = t.events.filter((event) => event.type === 'forward_auth.denied' && event.userId === b.userId);
    expect(events.at(-1)?.details).toMatchObject({ host: 'app.twofold.test', reason: 'user_not_allowed' });
  });

  it('FA-23: methods: a rule for POST denies POST and leaves GET to the default', async () => {
    expectProblem(await ask(t, 'https://app.twofold.test/write/x', { cookie, method: 'POST' }), 403, 'forward_auth_denied');
    expect((await ask(t, 'https://app.twofold.test/write/x', { cookie, method: 'GET' })).statusCode).toBe(200);
  });

  it('FA-24: phishing_resistant: a TOTP session is sent to the passkey-only step-up', async () => {
    const response = await ask(t, 'https://app.twofold.test/keys/x', { cookie });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toMatch(/^http:\/\/twofold\.test\/account\/verify\?factor=passkey&next=%2Fv1%2Fforward-auth%2Fsign-in%3Frd%3D/);
  });

  it('FA-25: max_age: after 300 s the admin path sends to the step-up; a fresh second factor lets the person through with a new cookie', async () => {
    expect((await ask(t, 'https://app.twofold.test/admin/users', { cookie })).statusCode).toBe(200);
    t.clock.advanceSeconds(301);
    const stale = await ask(t, 'https://app.twofold.test/admin/users', { cookie });
    expect(stale.statusCode).toBe(302);
    const stepUp = localOf(stale.headers.location as string);
    expect(stepUp).toBe(`/account/verify?next=${encodeURIComponent(`/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.twofold.test/admin/users')}`)}`);
    // Other paths keep working: only the admin rule asks for a recent factor.
    expect((await ask(t, 'https://app.twofold.test/page', { cookie })).statusCode).toBe(200);
    // nginx: 401, and its sign-in redirect goes through the same step-up.
    expect((await ask(t, 'https://app.twofold.test/admin/users', { cookie, flavour: 'nginx' })).statusCode).toBe(401);
    const viaSignIn = await browser.get(`/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.twofold.test/admin/users')}`);
    expect(viaSignIn.headers.location).toBe(stepUp);
    // The step-up page, as a person takes it (the portal's access token is refreshed on the way).
    await browser.get(stepUp);
    t.clock.advanceSeconds(30);
    const verified = await browser.post('/account/verify', { code: totpCode(t, a.secret), next: `/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.twofold.test/admin/users')}` });
    expect(verified.statusCode, verified.body.slice(0, 300)).toBe(303);
    const back = await browser.get(verified.headers.location as string);
    const callback = await browser.get(back.headers.location as string);
    expect(callback.headers.location).toBe('https://app.twofold.test/admin/users');
    const fresh = browser.cookies.get(faCookie)!;
    expect(fresh).not.toBe(cookie);
    expect((await ask(t, 'https://app.twofold.test/admin/users', { cookie: fresh })).statusCode).toBe(200);
    // The replaced cookie is forgotten.
    expect((await ask(t, 'https://app.twofold.test/page', { cookie })).statusCode).toBe(302);
    cookie = fresh;
  });

  it('FA-26: a cookie set for twofold.test presented on a host of other.test is not a session there', async () => {
    const response = await ask(t, 'https://app.other.test/', { cookie });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toMatch(/^http:\/\/auth\.other\.test\//);
  });

  it('FA-27: the forward-auth sign-in of a domain with its own portal is done on that portal', async () => {
    const response = await browser.get(`/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.other.test/x')}`);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`http://auth.other.test/v1/forward-auth/sign-in?rd=${encodeURIComponent('https://app.other.test/x')}`);
  });

  it('FA-28: logout: a page with a CSRF form; the POST ends the Twofold session, clears the cookie and returns to rd', async () => {
    const page = await browser.get(`/v1/forward-auth/logout?rd=${encodeURIComponent('https://app.twofold.test/bye')}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('action="/v1/forward-auth/logout"');
    expect(page.body).toContain('name="csrf"');
    // Without the CSRF token: refused, nothing ends.
    const forged = await browser.send({ method: 'POST', url: '/v1/forward-auth/logout', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'rd=https%3A%2F%2Fapp.twofold.test%2F' });
    expect(forged.statusCode).toBe(403);
    expect((await ask(t, 'https://app.twofold.test/page', { cookie })).statusCode).toBe(200);
    const out = await browser.post('/v1/forward-auth/logout', { rd: 'https://app.twofold.test/bye' });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('https://app.twofold.test/bye');
    expect(browser.cookies.has(faCookie)).toBe(false);
    const after = await ask(t, 'https://app.twofold.test/page', { cookie });
    expect(after.statusCode).toBe(302);
    expect(t.events.some((event) => event.type === 'session.revoked' && event.userId === a.userId)).toBe(true);
  });
});

describe('forward-auth: sessions ended elsewhere', () => {
  it('FA-29: "sign out everywhere" from another session: the next decision refuses the cookie', async () => {
    const { cookie } = await signInForApp(t, a, 'https://app.twofold.test/');
    expect((await ask(t, 'https://app.twofold.test/page', { cookie })).statusCode).toBe(200);
    const api = await signIn(t, { username: alice, password: a.password, secret: a.secret });
    const ended = await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(api.accessToken) });
    expect(ended.statusCode, ended.body).toBe(200);
    expect((await ask(t, 'https://app.twofold.test/page', { cookie })).statusCode).toBe(302);
  });

  it('FA-30: the idle limit ends the session behind the cookie', async () => {
    const { cookie } = await signInForApp(t, a, 'https://app.twofold.test/');
    expect((await ask(t, 'https://app.twofold.test/page', { cookie })).statusCode).toBe(200);
    t.clock.advanceSeconds(t.config.sessions.idleTimeoutSeconds + 1);
    expect((await ask(t, 'https://app.twofold.test/page', { cookie })).statusCode).toBe(302);
  });
});

describe('forward-auth: API clients', () => {
  it('FA-31: a bearer access token is judged by the same rules; a bad token is 401, a denied path 403', async () => {
    const { accessToken } = await signIn(t, { username: alice, password: a.password, secret: a.secret });
    const allowed = await ask(t, 'https://api.twofold.test/v1/things', { headers: bearer(accessToken) });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers['remote-user']).toBe(alice);
    expectProblem(await ask(t, 'https://api.twofold.test/private/x', { headers: bearer(accessToken) }), 403, 'forward_auth_denied');
    expectProblem(await ask(t, 'https://api.twofold.test/v1/things', { headers: bearer('not-a-token') }), 401, 'invalid_token');
    // A level the token lacks: 401 insufficient_authentication, never a redirect to a sign-in page.
    const keys = expectProblem(await ask(t, 'https://api.twofold.test/keys/x', { headers: bearer(accessToken) }), 401, 'insufficient_authentication');
    expect(keys['acr_values']).toBe('phr');
  });

  it('FA-41: a DPoP-bound token needs a proof made for the ORIGINAL method and URL; as Bearer, without a proof or for another URL it is 401', async () => {
    const key = await createDpopTestKey('ES256');
    t.clock.advanceSeconds(30);
    const mfaToken = await loginForMfaToken(t, { username: alice, password: a.password });
    const proofFor = (htm: string, htu: string, accessToken?: string) =>
      makeDpopProof({ key, htm, htu, iat: Math.floor(t.clock.now() / 1000), claims: accessToken === undefined ? {} : { ath: sha256Base64url(accessToken) } });
    const verified = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, a.secret) }, { ...bearer(mfaToken), dpop: await proofFor('POST', 'http://twofold.test/v1/mfa/verify') });
    expect(verified.statusCode, verified.body).toBe(200);
    const token = verified.json().access_token as string;
    const url = 'https://api.twofold.test/v1/things?page=2';
    const dpop = (proof: string) => ({ authorization: `DPoP ${token}`, dpop: proof });
    const allowed = await ask(t, url, { method: 'PUT', headers: dpop(await proofFor('PUT', 'https://api.twofold.test/v1/things', token)) });
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.headers['remote-user']).toBe(alice);
    // The proof is single use.
    const proof = await proofFor('GET', 'https://api.twofold.test/v1/things', token);
    expect((await ask(t, url, { headers: dpop(proof) })).statusCode).toBe(200);
    expectProblem(await ask(t, url, { headers: dpop(proof) }), 401, 'invalid_token');
    // Made for Twofold's own endpoint, another method, or another host: refused.
    expectProblem(await ask(t, url, { headers: dpop(await proofFor('GET', 'http://twofold.test/v1/forward-auth', token)) }), 401, 'invalid_token');
    expectProblem(await ask(t, url, { headers: dpop(await proofFor('POST', 'https://api.twofold.test/v1/things', token)) }), 401, 'invalid_token');
    expectProblem(await ask(t, url, { headers: dpop(await proofFor('GET', 'https://evil.twofold.test/v1/things', token)) }), 401, 'invalid_token');
    expectProblem(await ask(t, url, { headers: { authorization: `DPoP ${token}` } }), 401, 'invalid_token');
    expectProblem(await ask(t, url, { headers: bearer(token) }), 401, 'invalid_token');
    // The same rules: a denied path is denied to a proven token too.
    expectProblem(await ask(t, 'https://api.twofold.test/private/x', { headers: dpop(await proofFor('GET', 'https://api.twofold.test/private/x', token)) }), 403, 'forward_auth_denied');
  });
});

describe('forward-auth: stored cookies', () => {
  it('FA-20: only the SHA-256 of a cookie is stored, and its row goes with its session when the upkeep deletes long-ended sessions', async () => {
    const { cookie } = await signInForApp(t, b, 'https://app.twofold.test/');
    const rows = await t.ctx.db.selectFrom('forward_auth_sessions').selectAll().execute();
    expect(rows.some((row) => row.token_hash === sha256Base64url(cookie))).toBe(true);
    expect(rows.some((row) => row.token_hash === cookie)).toBe(false);
    const row = rows.find((candidate) => candidate.token_hash === sha256Base64url(cookie))!;
    expect(row.domain).toBe('twofold.test');
    await t.ctx.db.updateTable('sessions').set({ state: 'revoked', revoked_at: t.clock.now(), revoke_reason: 'test' }).where('id', '=', row.session_id).execute();
    t.clock.advanceSeconds(8 * 86400);
    await t.twofold.maintenance.runOnce();
    const left = await t.ctx.db.selectFrom('forward_auth_sessions').selectAll().where('token_hash', '=', row.token_hash).execute();
    expect(left).toEqual([]);
  });
});
