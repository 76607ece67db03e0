// Back-channel logout (OpenID Connect Back-Channel Logout 1.0) from Twofold's OpenID Provider: a
// relying party's endpoint is a real HTTP server in the test; whatever ends the Twofold session —
// the pages' sign-out, "sign out everywhere", a password change — revokes the grants made in it
// (the app's tokens stop working, a new authorization asks for the sign-in) and POSTs a logout
// token, verified here with jose against Twofold's JWKS. Delivery is retried, and bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { checkedClientRegistration, registerPublicOidcClient } from '../../src/oidc/clients.js';
import { startBackchannelReceiver, type BackchannelReceiver } from '../helpers/backchannel-receiver.js';
import { bearer, postJson, signIn, signUp, strongPassword, type SignedUp } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { discoverAsClient } from '../helpers/oidc-relying-party.js';

const redirectUri = 'https://app.example/callback';
const backchannelEvent = 'http://schemas.openid.net/event/backchannel-logout';

describe('OpenID Provider: back-channel logout when the Twofold session ends', () => {
  let t: ListeningTwofold;
  let receiver: BackchannelReceiver;
  let configs: Record<'notified' | 'silent' | 'unreachable', client.Configuration>;

  beforeAll(async () => {
    receiver = await startBackchannelReceiver();
    t = await startListeningTwofold({ env: { TWOFOLD_OIDC: 'on' } });
    await registerPublicOidcClient(t.ctx.db, checkedClientRegistration('notified-app', [redirectUri], { backchannelLogoutUri: `${receiver.url}/backchannel?app=notified` }));
    await registerPublicOidcClient(t.ctx.db, checkedClientRegistration('silent-app', [redirectUri]));
    await registerPublicOidcClient(t.ctx.db, checkedClientRegistration('unreachable-app', [redirectUri], { backchannelLogoutUri: `${receiver.url}/backchannel?app=unreachable` }));
    configs = { notified: await discoverAsClient(t, 'notified-app'), silent: await discoverAsClient(t, 'silent-app'), unreachable: await discoverAsClient(t, 'unreachable-app') };
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function login(browser: OidcBrowser, user: SignedUp, config: client.Configuration) {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'state-b' });
    const first = await browser.follow(url.href);
    const callback = first.url.startsWith(redirectUri) ? new URL(first.url) : await browser.signIn(t, user, url);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'state-b' });
    return { tokens, twofoldSid: String(decodeJwt(browser.cookies.get('__Host-twofold-access')!)['sid']) };
  }

  async function asksToSignIn(browser: OidcBrowser, config: client.Configuration): Promise<boolean> {
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    return /\/sign-in\?return_to=/.test((await browser.follow(url.href)).url);
  }

  const forSession = (sid: string) => (token: string) => decodeJwt(token)['sid'] === sid;

  it('OP-12: signing out of Twofold POSTs a logout token (typ logout+jwt, events, sid, sub, no nonce) signed with Twofold’s key; the app’s tokens and grant are gone and a new authorization asks to sign in', async () => {
    const user = await signUp(t);
    const browser = new OidcBrowser(t.baseUrl);
    const { tokens, twofoldSid } = await login(browser, user, configs.notified);
    const grantId = (await t.ctx.db.selectFrom('oidc_session_grants').select('id').where('session_id', '=', twofoldSid).executeTakeFirstOrThrow()).id;
    expect(await t.ctx.db.selectFrom('oidc_payloads').select('kind').where('grant_id', '=', grantId).execute()).not.toEqual([]);

    expect((await browser.request('/sign-out', { method: 'POST', form: { csrf: browser.csrf() } })).status).toBe(303);
    const logoutToken = await receiver.waitFor(forSession(twofoldSid));
    const verified = await jwtVerify(logoutToken, createRemoteJWKSet(new URL(`${t.baseUrl}/.well-known/jwks.json`)), { issuer: t.baseUrl, audience: 'notified-app', typ: 'logout+jwt', maxTokenAge: '2 minutes' });
    expect(verified.protectedHeader.kid).toBe((await t.ctx.keys.currentKey()).kid);
    expect(verified.payload.sub).toBe(user.userId);
    expect(verified.payload['sid']).toBe(twofoldSid);
    expect(verified.payload['sid']).toBe(tokens.claims()!['sid']);
    expect(verified.payload['events']).toEqual({ [backchannelEvent]: {} });
    expect(typeof verified.payload.jti).toBe('string');
    expect(verified.payload).not.toHaveProperty('nonce');
    expect(verified.payload).not.toHaveProperty('email');

    await expect(client.fetchUserInfo(configs.notified, tokens.access_token, user.userId)).rejects.toBeDefined();
    expect(await t.ctx.db.selectFrom('oidc_payloads').select('kind').where('grant_id', '=', grantId).execute()).toEqual([]);
    expect(await t.ctx.db.selectFrom('oidc_payloads').select('id').where('kind', '=', 'Grant').where('id', '=', grantId).execute()).toEqual([]);
    expect(await asksToSignIn(browser, configs.notified)).toBe(true);
  });

  it('OP-12: “sign out everywhere” from another session ends the browser’s apps: every app’s tokens die, the app with a back-channel URI is told (delivered on a retry after a 503)', async () => {
    const user = await signUp(t);
    const browser = new OidcBrowser(t.baseUrl);
    const notified = await login(browser, user, configs.notified);
    const silent = await login(browser, user, configs.silent);
    expect(silent.twofoldSid).toBe(notified.twofoldSid);

    receiver.answerNext(503);
    const before = receiver.tokens.length;
    const elsewhere = await signIn(t, user);
    const everywhere = await t.app.inject({ method: 'DELETE', url: '/v1/sessions', headers: bearer(elsewhere.accessToken) });
    expect(everywhere.statusCode, everywhere.body).toBe(200);
    await receiver.waitFor((token) => receiver.tokens.indexOf(token) > before && forSession(notified.twofoldSid)(token));
    // The first try was answered 503; the second carried a new token (a new jti) for the same session.
    const tries = receiver.tokens.slice(before).filter(forSession(notified.twofoldSid));
    expect(tries.length).toBe(2);
    expect(decodeJwt(tries[0]!).jti).not.toBe(decodeJwt(tries[1]!).jti);

    await expect(client.fetchUserInfo(configs.notified, notified.tokens.access_token, user.userId)).rejects.toBeDefined();
    await expect(client.fetchUserInfo(configs.silent, silent.tokens.access_token, user.userId)).rejects.toBeDefined();
    expect(await asksToSignIn(browser, configs.silent)).toBe(true);
  });

  it('OP-12: a password change ends the other sessions: their apps get a logout token', async () => {
    const user = await signUp(t);
    const browser = new OidcBrowser(t.baseUrl);
    const { twofoldSid } = await login(browser, user, configs.notified);
    const elsewhere = await signIn(t, user);
    const changed = await postJson(t.app, '/v1/password', { current_password: user.password, new_password: `${strongPassword} again` }, bearer(elsewhere.accessToken));
    expect(changed.statusCode, changed.body).toBe(204);
    const token = await receiver.waitFor(forSession(twofoldSid));
    expect(decodeJwt(token).sub).toBe(user.userId);
  });

  it('OP-12: an app that never answers 200 gets three tries, then Twofold gives up', { timeout: 40_000 }, async () => {
    const user = await signUp(t);
    const browser = new OidcBrowser(t.baseUrl);
    const { twofoldSid } = await login(browser, user, configs.unreachable);
    receiver.answerNext(500, 500, 500);
    expect((await browser.request('/sign-out', { method: 'POST', form: { csrf: browser.csrf() } })).status).toBe(303);
    // Waits of 2 s and 10 s between the tries; all three were answered 500.
    await receiver.waitFor((token) => receiver.tokens.filter(forSession(twofoldSid)).length === 3 && forSession(twofoldSid)(token), 30_000);
    await t.ctx.background.flush();
    expect(receiver.tokens.filter(forSession(twofoldSid))).toHaveLength(3);
  });
});
