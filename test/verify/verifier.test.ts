// twofold/verify against a real Twofold over HTTP: discovery, the JWKS, the revoked-session feed
// and real tokens from real logins. The verifier shares the server's test clock, so expiry and
// auth_time age are exact; polling and timeouts run on real time.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../src/flows/keys/rotate-signing-key.js';
import { createVerifier, VerificationError, type Verifier, type VerifierOptions } from '../../src/verify/index.js';
import { bearer, loginForMfaToken, postJson, signIn, signUp, totpCode, type SignedUp } from '../helpers/flow.js';
import { realKeyOf, signWithRealKey } from '../helpers/jwt-forgery.js';
import { injectPost, signInWithPasskey, signUpWithPasskey } from '../helpers/passkey-sign-in.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';

let t: ListeningTwofold;
let user: SignedUp;
/** A fresh access token for each test: tests move the shared clock forward. */
let token: string;
const verifiers: Verifier[] = [];

/** A verifier for the test server; every fetch it makes is counted by URL path. */
function verifierFor(options: Partial<VerifierOptions> = {}): { verifier: Verifier; requests: string[] } {
  const requests: string[] = [];
  const verifier = createVerifier({
    issuer: t.baseUrl,
    audience: t.config.audience,
    now: t.clock.now,
    revocations: { intervalMs: 50 },
    fetch: (input, init) => {
      requests.push(new URL(String(input)).pathname);
      return fetch(input, init);
    },
    ...options,
  });
  verifiers.push(verifier);
  return { verifier, requests };
}

async function expectVerificationError(promise: Promise<unknown>, code: VerificationError['code']): Promise<VerificationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VerificationError);
  expect((error as VerificationError).code).toBe(code);
  return error as VerificationError;
}

beforeAll(async () => {
  t = await startListeningTwofold();
  user = await signUp(t);
});
beforeEach(async () => {
  token = (await signIn(t, user)).accessToken;
});
afterEach(() => {
  for (const verifier of verifiers.splice(0)) verifier.close();
});
afterAll(async () => t.close());

describe('createVerifier(): a real access token', () => {
  it('JW-11: finds the JWKS through /.well-known/openid-configuration and returns the RFC 9068 claims', async () => {
    const { verifier, requests } = verifierFor();
    const claims = await verifier.verify(token);
    expect(claims).toMatchObject({ iss: t.baseUrl, sub: user.userId, aud: t.config.audience, acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    expect(typeof claims.auth_time).toBe('number');
    expect(requests).toEqual(expect.arrayContaining(['/.well-known/openid-configuration', '/.well-known/jwks.json', '/v1/revoked-sessions']));
  });

  it('takes an explicit jwksUri without discovery', async () => {
    const { verifier, requests } = verifierFor({ jwksUri: `${t.baseUrl}/.well-known/jwks.json` });
    await verifier.verify(token);
    expect(requests).not.toContain('/.well-known/openid-configuration');
  });

  it('FL-02 / JW-10: refuses an mfa_token', async () => {
    const { verifier } = verifierFor();
    t.clock.advanceSeconds(30);
    const mfaToken = await loginForMfaToken(t, user);
    await expectVerificationError(verifier.verify(mfaToken), 'invalid_token');
  });

  it('JW-09: refuses a token for another audience or another issuer', async () => {
    await expectVerificationError(verifierFor({ audience: 'https://another-api.example' }).verifier.verify(token), 'invalid_token');
    const wrongIssuer = verifierFor({ issuer: 'https://elsewhere.example', jwksUri: `${t.baseUrl}/.well-known/jwks.json`, revocations: false }).verifier;
    await expectVerificationError(wrongIssuer.verify(token), 'invalid_token');
  });

  it('refuses metadata that names another issuer (RFC 8414 §3.3 mix-up), as verifier_unavailable', async () => {
    const { verifier } = verifierFor({ issuer: `${t.baseUrl}/`, revocations: false });
    const error = await expectVerificationError(verifier.verify(token), 'verifier_unavailable');
    expect(error.status).toBe(503);
  });

  it('JW-08: refuses the token once exp (plus the tolerance) has passed, also from the cache', async () => {
    const fresh = await signIn(t, user);
    const { verifier } = verifierFor({ clockToleranceSeconds: 5 });
    await verifier.verify(fresh.accessToken);
    t.clock.advanceSeconds(t.config.tokens.accessTokenTtlSeconds + 6);
    await expectVerificationError(verifier.verify(fresh.accessToken), 'invalid_token');
  });

  it('refuses what is not a token: empty, garbage, oversized, a non-canonical re-encoding (JW-12, JW-15)', async () => {
    const fresh = await signIn(t, user);
    const { verifier } = verifierFor();
    await verifier.verify(fresh.accessToken);
    const [h, p, s] = fresh.accessToken.split('.') as [string, string, string];
    // The last base64url character of a 64-byte Ed25519 signature carries 4 padding bits.
    const last = s.at(-1) ?? 'A';
    const twin = `${h}.${p}.${s.slice(0, -1)}${String.fromCharCode(last.charCodeAt(0) + 1)}`;
    for (const bad of ['', 'garbage', 'a.b.c', `${fresh.accessToken}.x`, `${h}.${p}.${s}${'A'.repeat(5000)}`, twin]) {
      await expectVerificationError(verifier.verify(bad), 'invalid_token');
    }
  });
});

describe('createVerifier(): requirements (RFC 9470)', () => {
  it('SS-09: maxAge refuses an old authentication with max_age, and a step-up satisfies it', async () => {
    const fresh = await signIn(t, user);
    const { verifier } = verifierFor();
    await verifier.verify(fresh.accessToken, { maxAge: 300 });
    t.clock.advanceSeconds(301);
    const error = await expectVerificationError(verifier.verify(fresh.accessToken, { maxAge: 300 }), 'insufficient_authentication');
    expect(error.missing).toEqual({ maxAge: 300 });
    // The same token still serves routes without a recency requirement.
    await verifier.verify(fresh.accessToken);
    const stepUp = await postJson(t.app, '/v1/mfa/verify', { code: totpCode(t, user.secret) }, bearer(fresh.accessToken));
    expect(stepUp.statusCode, stepUp.body).toBe(200);
    const claims = await verifier.verify(stepUp.json().access_token, { maxAge: 300 });
    expect(claims.auth_time).toBe(Math.floor(t.clock.now() / 1000));
  });

  it('acr: aal2 is refused for an aal1 token with acr_values; requiring aal1 accepts aal2', async () => {
    const key = await realKeyOf(t);
    const claims = decodeJwt(token);
    const header = decodeProtectedHeader(token);
    const aal1 = await signWithRealKey(key, { kid: header.kid, typ: 'at+jwt' }, { ...claims, acr: 'aal1', amr: ['pwd', 'email'], jti: 'aal1-token' });
    const { verifier } = verifierFor();
    const error = await expectVerificationError(verifier.verify(aal1, { acr: 'aal2' }), 'insufficient_authentication');
    expect(error.missing).toEqual({ acrValues: ['aal2'] });
    await expect(verifier.verify(aal1, { acr: 'aal1' })).resolves.toMatchObject({ acr: 'aal1' });
    await expect(verifier.verify(token, { acr: 'aal1' })).resolves.toMatchObject({ acr: 'aal2' });
    await expect(verifier.verify(token, { acr: ['aal2', 'urn:example:strong'] })).resolves.toMatchObject({ acr: 'aal2' });
  });

  it('SS-10: acr demands follow aal1 < aal2 < phr < phrh — "phr" accepts phr and phrh only, "phrh" only phrh, each refusal names the level to step up to', async () => {
    const key = await realKeyOf(t);
    const claims = decodeJwt(token);
    const header = decodeProtectedHeader(token);
    const tokenAt = (acr: string, amr: string[]) => signWithRealKey(key, { kid: header.kid, typ: 'at+jwt' }, { ...claims, acr, amr, jti: `${acr}-token` });
    const phr = await tokenAt('phr', ['swk', 'mfa']);
    const phrh = await tokenAt('phrh', ['hwk', 'mfa']);
    const { verifier } = verifierFor();

    const aal2Refused = await expectVerificationError(verifier.verify(token, { acr: 'phr' }), 'insufficient_authentication');
    expect(aal2Refused.missing).toEqual({ acrValues: ['phr'] });
    await expect(verifier.verify(phr, { acr: 'phr' })).resolves.toMatchObject({ acr: 'phr' });
    await expect(verifier.verify(phrh, { acr: 'phr' })).resolves.toMatchObject({ acr: 'phrh' });

    const phrRefused = await expectVerificationError(verifier.verify(phr, { acr: 'phrh' }), 'insufficient_authentication');
    expect(phrRefused.missing).toEqual({ acrValues: ['phrh'] });
    await expectVerificationError(verifier.verify(token, { acr: 'phrh' }), 'insufficient_authentication');
    await expect(verifier.verify(phrh, { acr: 'phrh' })).resolves.toMatchObject({ acr: 'phrh' });

    // The weaker demands accept the stronger levels.
    for (const strong of [phr, phrh]) {
      await expect(verifier.verify(strong, { acr: 'aal2' })).resolves.toBeDefined();
      await expect(verifier.verify(strong, { acr: 'aal1' })).resolves.toBeDefined();
    }
    // A value outside Twofold's order matches only itself.
    await expectVerificationError(verifier.verify(phrh, { acr: 'urn:example:strong' }), 'insufficient_authentication');
  });

  it('SS-10: a real passkey sign-in that asked for phr gives a token acr "phr" accepts; without asking it is aal2, which "phr" refuses', async () => {
    const post = injectPost(t);
    const account = await signUpWithPasskey(post, { rpId: t.config.webauthn.rpId, origin: t.baseUrl });
    const { verifier } = verifierFor();
    const asked = await signInWithPasskey(post, account.authenticator, { acrValues: 'phr' });
    expect(asked.status, JSON.stringify(asked.body)).toBe(200);
    await expect(verifier.verify(asked.body.access_token, { acr: 'phr' })).resolves.toMatchObject({ acr: 'phr', sub: account.userId });
    await expectVerificationError(verifier.verify(asked.body.access_token, { acr: 'phrh' }), 'insufficient_authentication');
    const plain = await signInWithPasskey(post, account.authenticator);
    expect(plain.status, JSON.stringify(plain.body)).toBe(200);
    const refused = await expectVerificationError(verifier.verify(plain.body.access_token, { acr: 'phr' }), 'insufficient_authentication');
    expect(refused.missing).toEqual({ acrValues: ['phr'] });
  });

  it('amr: every listed method must appear', async () => {
    const { verifier } = verifierFor();
    await expect(verifier.verify(token, { amr: ['otp', 'mfa'] })).resolves.toBeDefined();
    await expectVerificationError(verifier.verify(token, { amr: ['hwk'] }), 'insufficient_authentication');
  });
});

describe('createVerifier(): caching', () => {
  it('a token seen before is answered from the cache: one signature check for many verifications', async () => {
    const { verifier } = verifierFor();
    for (let index = 0; index < 50; index += 1) await verifier.verify(token);
    expect(verifier.stats()).toMatchObject({ signatureChecks: 1, cacheHits: 49 });
  });

  it('the cache is a bounded LRU: an evicted token is verified afresh', async () => {
    const tokens = [token, (await signIn(t, user)).accessToken, (await signIn(t, user)).accessToken];
    const { verifier } = verifierFor({ cacheSize: 2 });
    for (const token of tokens) await verifier.verify(token);
    await verifier.verify(tokens[2] ?? '');
    expect(verifier.stats()).toMatchObject({ signatureChecks: 3, cacheHits: 1 });
    await verifier.verify(tokens[0] ?? '');
    expect(verifier.stats()).toMatchObject({ signatureChecks: 4 });
  });

  it('JW-05: 50 made-up kids at once cost at most two JWKS fetches, and each is refused 401 after a fetch made after it arrived', async () => {
    const key = await realKeyOf(t);
    const claims = decodeJwt(token);
    const { verifier, requests } = verifierFor({ revocations: false, jwksRefreshCooldownMs: 100 });
    await verifier.verify(token);
    const jwksFetches = () => requests.filter((path) => path === '/.well-known/jwks.json').length;
    expect(jwksFetches()).toBe(1);
    const bogus = await Promise.all(Array.from({ length: 50 }, (_, index) => signWithRealKey(key, { kid: `bogus-${index}`, typ: 'at+jwt' }, claims)));
    await Promise.all(bogus.map((forged) => expectVerificationError(verifier.verify(forged), 'invalid_token')));
    // One fetch made for the first kid; the 49 that arrived while it was in flight share one more.
    expect(jwksFetches()).toBe(3);
    // A known kid costs no fetch at all.
    await verifier.verify(token);
    expect(jwksFetches()).toBe(3);
  });
});

describe('createVerifier(): key rotation', () => {
  it('picks up a rotated signing key without a restart; tokens signed before keep verifying until they expire', async () => {
    const before = await signIn(t, user);
    const { verifier } = verifierFor();
    await verifier.verify(before.accessToken);
    const { previous, current } = await rotateSigningKey(t.ctx);
    const after = await signIn(t, user);
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(current.kid);
    await expect(verifier.verify(after.accessToken)).resolves.toMatchObject({ sub: user.userId });
    expect(decodeProtectedHeader(before.accessToken).kid).toBe(previous.kid);
    await expect(verifier.verify(before.accessToken)).resolves.toMatchObject({ sub: user.userId });
    // A fresh verifier (no cache) still finds the old key in the JWKS while its tokens live.
    await expect(verifierFor().verifier.verify(before.accessToken)).resolves.toBeDefined();
  });
});

describe('createVerifier(): revoked sessions', () => {
  async function until(condition: () => Promise<boolean>): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('condition not met within 2 s');
  }

  it('SS-05: a logout reaches the verifier through the feed within a polling interval, even for a cached token', async () => {
    const session = await signIn(t, user);
    const { verifier } = verifierFor();
    await verifier.verify(session.accessToken);
    const logout = await postJson(t.app, '/v1/logout', {}, bearer(session.accessToken));
    expect(logout.statusCode, logout.body).toBeLessThan(300);
    await until(() => verifier.verify(session.accessToken).then(() => false, (error: VerificationError) => error.code === 'invalid_token'));
    await expectVerificationError(verifier.verify(session.accessToken), 'invalid_token');
    // Another session of the same user is unaffected.
    await expect(verifier.verify((await signIn(t, user)).accessToken)).resolves.toBeDefined();
  });

  it('a session revoked before the verifier started is refused from the first answer', async () => {
    const session = await signIn(t, user);
    await postJson(t.app, '/v1/logout', {}, bearer(session.accessToken));
    const { verifier } = verifierFor();
    await expectVerificationError(verifier.verify(session.accessToken), 'invalid_token');
    expect(verifier.stats().revokedSessions).toBeGreaterThan(0);
  });

  it('the feed lists only sessions whose tokens may still be alive', async () => {
    const session = await signIn(t, user);
    const sid = String(decodeJwt(session.accessToken)['sid']);
    await postJson(t.app, '/v1/logout', {}, bearer(session.accessToken));
    const listed = async () => ((await (await fetch(`${t.baseUrl}/v1/revoked-sessions`)).json()) as { sessions: Array<{ sid: string }> }).sessions.map((entry) => entry.sid);
    expect(await listed()).toContain(sid);
    t.clock.advanceSeconds(t.config.tokens.accessTokenTtlSeconds + t.config.tokens.clockSkewSeconds + 1);
    expect(await listed()).not.toContain(sid);
  });

  it('answers verifier_unavailable (503) while the feed has never answered, instead of trusting blindly', async () => {
    const { verifier } = verifierFor({ revocations: { url: `${t.baseUrl}/no-such-feed`, intervalMs: 50 } });
    const error = await expectVerificationError(verifier.verify(token), 'verifier_unavailable');
    expect(error.status).toBe(503);
  });
});

describe('createVerifier(): an issuer that hangs', () => {
  let hanging: Server;
  let hangingUrl: string;
  beforeAll(async () => {
    hanging = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    hanging.closeAllConnections();
    await new Promise((resolve) => hanging.close(resolve));
  });

  it('gives up after timeoutMs with verifier_unavailable rather than holding the request', async () => {
    const { verifier } = verifierFor({ issuer: hangingUrl, timeoutMs: 200, revocations: false });
    const started = Date.now();
    await expectVerificationError(verifier.verify(token), 'verifier_unavailable');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
