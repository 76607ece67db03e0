// twofold/verify checking the forward-auth assertion (FA-42): an app behind the proxy verifies the
// X-Twofold-Assertion against the JWKS with createVerifier({ tokenType: 'assertion', audience:
// its origin }). An assertion for another app, an access token, a tampered or expired assertion,
// and one of a session since ended are refused; each verifier takes its one kind of token.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, VerificationError, type Verifier } from '../../src/verify/index.js';
import { bearer, signIn, signUp, type SignedUp } from '../helpers/flow.js';
import { ask } from '../helpers/forward-auth.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';

let t: ListeningTwofold;
let user: SignedUp;
const verifiers: Verifier[] = [];

function assertionVerifier(audience = 'https://app.twofold.test'): Verifier {
  const verifier = createVerifier({ issuer: t.baseUrl, audience, tokenType: 'assertion', now: t.clock.now, revocations: { intervalMs: 50 } });
  verifiers.push(verifier);
  return verifier;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(VerificationError);
  return (error as VerificationError).code;
}

async function assertionFor(accessToken: string, url = 'https://app.twofold.test/page'): Promise<string> {
  const response = await ask(t, url, { headers: bearer(accessToken) });
  expect(response.statusCode, response.body).toBe(200);
  return response.headers['x-twofold-assertion'] as string;
}

beforeAll(async () => {
  t = await startListeningTwofold({
    env: { TWOFOLD_FORWARD_AUTH: 'on', TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: 'twofold.test=http://auth.twofold.test', TWOFOLD_TRUSTED_PROXIES: '127.0.0.1' },
  });
  user = await signUp(t);
});
afterEach(() => {
  for (const verifier of verifiers.splice(0)) verifier.close();
});
afterAll(async () => t?.close());

describe('twofold/verify: forward-auth assertions', () => {
  it('FA-42: verifyAssertion() returns who signed in and how, for the app it was made for', async () => {
    const { accessToken } = await signIn(t, user);
    const claims = await assertionVerifier().verifyAssertion(await assertionFor(accessToken), { acr: 'aal2' });
    expect(claims).toMatchObject({ iss: t.baseUrl, aud: 'https://app.twofold.test', sub: user.userId, username: user.username, acr: 'aal2' });
    expect(claims.amr).toContain('otp');
    expect(claims.exp - claims.iat).toBe(60);
  });

  it('FA-42: an assertion for another app, an access token, a tampered or expired assertion are invalid_token', async () => {
    const { accessToken } = await signIn(t, user);
    const assertion = await assertionFor(accessToken);
    expect(await codeOf(assertionVerifier('https://other.twofold.test').verifyAssertion(assertion))).toBe('invalid_token');
    expect(await codeOf(assertionVerifier('https://app.twofold.test').verifyAssertion(accessToken))).toBe('invalid_token');
    const [header, payload, signature] = assertion.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), username: 'admin' })).toString('base64url');
    expect(await codeOf(assertionVerifier().verifyAssertion(`${header}.${forged}.${signature}`))).toBe('invalid_token');
    // An access-token verifier refuses the assertion (typ), and an assertion verifier refuses verify().
    const accessVerifier = createVerifier({ issuer: t.baseUrl, audience: 'https://app.twofold.test', now: t.clock.now, revocations: false });
    verifiers.push(accessVerifier);
    expect(await codeOf(accessVerifier.verify(assertion))).toBe('invalid_token');
    await expect(assertionVerifier().verify(accessToken)).rejects.toThrow(TypeError);
    t.clock.advanceSeconds(60 + 31);
    expect(await codeOf(assertionVerifier().verifyAssertion(assertion))).toBe('invalid_token');
  });

  it('FA-42: the assertion of a session that ended is refused through the revocation feed', async () => {
    const { accessToken } = await signIn(t, user);
    const assertion = await assertionFor(accessToken);
    const verifier = assertionVerifier();
    await verifier.verifyAssertion(assertion);
    const out = await t.app.inject({ method: 'POST', url: '/v1/logout', headers: bearer(accessToken) });
    expect(out.statusCode).toBe(204);
    await expect.poll(() => codeOf(verifier.verifyAssertion(assertion)), { timeout: 3000, interval: 60 }).toBe('invalid_token');
  });
});
