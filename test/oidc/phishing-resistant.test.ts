// The phishing-resistant levels at the OpenID Provider (OP-22): acr_values=phr / phrh (or an
// essential acr claim) are met by a passkey — the sign-in's second factor or a passkey step-up —
// never by the parameter; phrh only by a passkey whose attestation proved a hardware key; an
// account that has no such passkey gets OpenID's unmet_authentication_requirements. openid-client
// is the relying party, the hosted pages are driven over real HTTP, and the passkeys are the
// suite's software authenticator (a hardware key's attestation from the test PKI).
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestPki } from '../helpers/attestation-ca.js';
import { bearer, postJson, signIn, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import type { ListeningTwofold } from '../helpers/listening-twofold.js';
import { OidcBrowser } from '../helpers/oidc-browser.js';
import { registerPublicOidcClient } from '../../src/oidc/clients.js';
import { discoverAsClient, pkceAuthorization, startOidcTestbed } from '../helpers/oidc-relying-party.js';
import { answerPasskeyPrompt } from '../helpers/page-passkey.js';
import { createSoftAuthenticator, type SoftAuthenticator, type SoftAuthenticatorOptions } from '../helpers/soft-authenticator.js';

const redirectUri = 'https://bank.example/callback';
const stepUpPaths = { action: '/account/verify', challengeAction: '/account/challenge' };
const signInPaths = { action: '/sign-in/verify', challengeAction: '/sign-in/challenge' };

describe('OpenID Provider: phr and phrh are earned with a passkey (OP-22)', () => {
  let t: ListeningTwofold;
  let pki: TestPki;
  let config: client.Configuration;
  /** Only an authenticator app. */
  let appOnly: SignedUp;
  let hardwareKey: ReturnType<ReturnType<TestPki['root']>['issueAttestation']>;

  beforeAll(async () => {
    pki = createTestPki();
    const vendorRoot = pki.root('Vendor Attestation Root');
    hardwareKey = vendorRoot.issueAttestation({ commonName: 'Vendor Key Series 5' });
    ({ t, user: appOnly, config } = await startOidcTestbed({ clientId: 'bank', redirectUris: [redirectUri] }, { TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: vendorRoot.certificatePath }));
  });
  afterAll(async () => {
    await t?.close();
    pki?.close();
  });

  function authenticatorFor(options: SoftAuthenticatorOptions = {}): SoftAuthenticator {
    return createSoftAuthenticator({ rpId: new URL(t.baseUrl).hostname, origin: t.baseUrl, ...options });
  }

  /** A person with the authenticator app and a passkey of `authenticator`, added through the API after a fresh second factor. */
  async function personWithPasskey(authenticator: SoftAuthenticator): Promise<SignedUp & { passkeyId: string }> {
    const person = await signUp(t);
    const { accessToken } = await signIn(t, person);
    const enroll = await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(accessToken));
    expect(enroll.statusCode, enroll.body).toBe(201);
    const { factor_id: passkeyId, challenge_id: challengeId, options } = enroll.json();
    const confirm = await postJson(t.app, `/v1/factors/${passkeyId}/verify`, { credential: authenticator.register(options), challenge_id: challengeId }, bearer(accessToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    return { ...person, passkeyId };
  }

  async function authorization(params: Record<string, string> = {}) {
    const { url, verifier } = await pkceAuthorization(config, { redirect_uri: redirectUri, scope: 'openid', state: 'state-1', ...params });
    return { url, redeem: async (callback: string) => (await client.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: verifier, expectedState: 'state-1' })).claims()! };
  }

  /** A browser signed in through the hosted pages with the password and the authenticator app (aal2, not phishing resistant). */
  async function signedInWithApp(person: SignedUp): Promise<OidcBrowser> {
    const browser = new OidcBrowser(t.baseUrl);
    await browser.request('/sign-in');
    await browser.follow('/sign-in', { method: 'POST', form: { csrf: browser.csrf(), username: person.username, password: person.password } });
    t.clock.advanceSeconds(30);
    const verified = await browser.follow('/sign-in/verify', { method: 'POST', form: { csrf: browser.csrf(), code: totpCode(t, person.secret) } });
    expect(new URL(verified.url).pathname).toBe('/account');
    return browser;
  }

  function expectRefusedWith(landing: string, error: string): void {
    const refused = new URL(landing);
    expect(refused.origin + refused.pathname).toBe(redirectUri);
    expect(refused.searchParams.get('error')).toBe(error);
    expect(refused.searchParams.get('code')).toBeNull();
  }

  it('OP-22: discovery lists acr_values_supported aal1, aal2, phr, phrh', () => {
    expect(config.serverMetadata().acr_values_supported).toEqual(['aal1', 'aal2', 'phr', 'phrh']);
  });

  it('OP-22: acr_values=phr after a sign-in with the app sends the person through a passkey (nothing else is offered); the ID token then says phr with amr swk', async () => {
    const authenticator = authenticatorFor();
    const person = await personWithPasskey(authenticator);
    const browser = await signedInWithApp(person);

    // Not asked for, not given: the app's sign-in is aal2.
    const plain = await authorization();
    expect((await plain.redeem((await browser.follow(plain.url.href)).url))['acr']).toBe('aal2');

    const demanding = await authorization({ acr_values: 'phr' });
    const detour = await browser.follow(demanding.url.href);
    // Fails if the app's aal2 sign-in were taken for phr: straight back to the app.
    expect(new URL(detour.url).pathname).toBe('/account/verify');
    expect(new URL(detour.url).searchParams.get('factor')).toBe('passkey');
    const page = await detour.response.text();
    expect(page).toContain('Use passkey');
    expect(page).not.toMatch(/name="code"/);
    expect(page).not.toContain('Use a recovery code');

    const next = new URL(detour.url).searchParams.get('next')!;
    // The page's forms keep it passkey-only: shown again after "Use passkey" it offers nothing else either.
    expect(page).toContain('action="/account/challenge?factor=passkey"');
    const passkeyOnlyPaths = { action: '/account/verify?factor=passkey', challengeAction: '/account/challenge?factor=passkey' };
    const challenged = await browser.follow(passkeyOnlyPaths.challengeAction, { method: 'POST', form: { csrf: browser.csrf(), factor_id: person.passkeyId, next } });
    const again = await challenged.response.text();
    expect(again).toContain('data-webauthn="authenticate"');
    expect(again).not.toMatch(/name="code"/);
    expect(again).not.toContain('Use a recovery code');
    const back = await answerPasskeyPrompt(browser, { paths: passkeyOnlyPaths, factorId: person.passkeyId, authenticator, origin: t.baseUrl, next });
    const claims = await demanding.redeem(back.url);
    expect(claims['acr']).toBe('phr');
    expect(claims['amr']).toEqual(expect.arrayContaining(['swk', 'mfa']));

    // The session now proves phr: the next demands, as acr_values or an essential claim, answer at once.
    for (const params of [{ acr_values: 'phr' }, { claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['phr'] } } }) }] as Array<Record<string, string>>) {
      const again = await authorization(params);
      const landing = await browser.follow(again.url.href);
      expect(new URL(landing.url).origin + new URL(landing.url).pathname).toBe(redirectUri);
      expect((await again.redeem(landing.url))['acr']).toBe('phr');
    }
    // A software passkey is not a proven hardware key: phrh cannot be met…
    const hardware = await authorization({ acr_values: 'phrh' });
    expectRefusedWith((await browser.follow(hardware.url.href)).url, 'unmet_authentication_requirements');
    // …unless the request's next choice can: "phrh phr" is answered with phr.
    const preferHardware = await authorization({ acr_values: 'phrh phr' });
    const fallback = await browser.follow(preferHardware.url.href);
    expect(new URL(fallback.url).origin + new URL(fallback.url).pathname).toBe(redirectUri);
    expect((await preferHardware.redeem(fallback.url))['acr']).toBe('phr');
  });

  it('OP-22: a passkey as the second factor after the password is phishing resistant — acr_values=phr is answered by that sign-in, without a step-up', async () => {
    const authenticator = authenticatorFor();
    const person = await personWithPasskey(authenticator);
    const browser = new OidcBrowser(t.baseUrl);
    const demanding = await authorization({ acr_values: 'phr aal2' });
    expect((await browser.follow(demanding.url.href)).url).toMatch(/\/sign-in\?return_to=/);
    const afterPassword = await browser.follow('/sign-in', { method: 'POST', form: { csrf: browser.csrf(), username: person.username, password: person.password } });
    expect(new URL(afterPassword.url).pathname).toBe('/sign-in/verify');
    const back = await answerPasskeyPrompt(browser, { paths: signInPaths, factorId: person.passkeyId, authenticator, origin: t.baseUrl });
    expect(new URL(back.url).origin + new URL(back.url).pathname).toBe(redirectUri);
    const claims = await demanding.redeem(back.url);
    expect(claims['acr']).toBe('phr');
    expect(claims['amr']).toEqual(['pwd', 'swk', 'mfa']);
  });

  it('OP-22: a client registered to require phr gets it on every login — a passkey step-up after the app, phr in the ID token; an account without a passkey gets unmet_authentication_requirements', async () => {
    await registerPublicOidcClient(t.ctx.db, { clientId: 'vault', redirectUris: [redirectUri], firstParty: true, options: { requiredAcr: 'phr' } });
    const vault = await discoverAsClient(t, 'vault');
    const authorize = async () => {
      const { url, verifier } = await pkceAuthorization(vault, { redirect_uri: redirectUri, scope: 'openid', state: 'state-v' });
      return { url, redeem: async (callback: string) => (await client.authorizationCodeGrant(vault, new URL(callback), { pkceCodeVerifier: verifier, expectedState: 'state-v' })).claims()! };
    };
    const authenticator = authenticatorFor();
    const person = await personWithPasskey(authenticator);
    const browser = await signedInWithApp(person);
    // Nothing in the request asks for it: the registration does.
    const login = await authorize();
    const detour = await browser.follow(login.url.href);
    expect(new URL(detour.url).pathname).toBe('/account/verify');
    expect(new URL(detour.url).searchParams.get('factor')).toBe('passkey');
    await detour.response.body?.cancel();
    const back = await answerPasskeyPrompt(browser, { paths: stepUpPaths, factorId: person.passkeyId, authenticator, origin: t.baseUrl, next: new URL(detour.url).searchParams.get('next')! });
    expect((await login.redeem(back.url))['acr']).toBe('phr');

    const withoutPasskey = await signedInWithApp(appOnly);
    const refused = await authorize();
    expectRefusedWith((await withoutPasskey.follow(refused.url.href)).url, 'unmet_authentication_requirements');
  });

  it('OP-22: an account without a passkey cannot meet phr: acr_values=phr and an essential phr both end in unmet_authentication_requirements, no code', async () => {
    const browser = await signedInWithApp(appOnly);
    for (const params of [{ acr_values: 'phr' }, { claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'phr' } } }) }] as Array<Record<string, string>>) {
      const demanding = await authorization(params);
      expectRefusedWith((await browser.follow(demanding.url.href)).url, 'unmet_authentication_requirements');
    }
    // aal2 is still what the app's sign-in gives, also when phr was only the first choice.
    const aal2 = await authorization({ acr_values: 'phr aal2' });
    expect((await aal2.redeem((await browser.follow(aal2.url.href)).url))['acr']).toBe('aal2');
  });

  it('OP-22: phrh is met only by a passkey whose attestation proved a hardware key: the step-up with it gives acr phrh and amr hwk; that session answers phr too', async () => {
    const securityKey = authenticatorFor({ attestation: { format: 'packed', privateKey: hardwareKey.privateKey, certificates: hardwareKey.certificates }, attachment: 'cross-platform', transports: ['usb'] });
    const person = await personWithPasskey(securityKey);
    const browser = await signedInWithApp(person);

    const demanding = await authorization({ claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['phrh'] } } }) });
    const detour = await browser.follow(demanding.url.href);
    expect(new URL(detour.url).pathname).toBe('/account/verify');
    const next = new URL(detour.url).searchParams.get('next')!;
    const back = await answerPasskeyPrompt(browser, { paths: stepUpPaths, factorId: person.passkeyId, authenticator: securityKey, origin: t.baseUrl, next });
    const claims = await demanding.redeem(back.url);
    expect(claims['acr']).toBe('phrh');
    expect(claims['amr']).toEqual(expect.arrayContaining(['hwk', 'mfa']));

    const phr = await authorization({ acr_values: 'phr' });
    const landing = await browser.follow(phr.url.href);
    expect((await phr.redeem(landing.url))['acr']).toBe('phr');
  });
});
