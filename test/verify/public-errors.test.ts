// What twofold/verify tells an anonymous client when it refuses: its 503
// bodies used to carry the issuer's internal URL and fetch's own words. A client now reads our
// generic text; the URL and the cause are in `error.diagnostic`, for logs and onBackgroundError.
// Checked on what the adapters send (status, headers, problem body) for each way of failing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateRequest, createVerifier, type AuthenticationResult, type Verifier, type VerifierOptions } from '../../src/verify/index.js';
import { signUp } from '../helpers/flow.js';
import { startIssuerProxy, type IssuerProxy } from '../helpers/issuer-proxy.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';

let t: ListeningTwofold;
let token: string;
let proxy: IssuerProxy;
const verifiers: Verifier[] = [];

beforeAll(async () => {
  t = await startListeningTwofold();
  token = (await signUp(t)).accessToken;
  proxy = await startIssuerProxy(t.baseUrl);
});
afterAll(async () => {
  for (const verifier of verifiers) verifier.close();
  await proxy.close();
  await t.close();
});

function verifierFor(options: Partial<VerifierOptions>): Verifier {
  const verifier = createVerifier({ issuer: t.baseUrl, audience: t.config.audience, now: t.clock.now, onBackgroundError: () => {}, ...options });
  verifiers.push(verifier);
  return verifier;
}

/** Everything a client receives of a failure, as one string. */
function whatTheClientSees(result: AuthenticationResult): string {
  if (result.ok) throw new Error('expected a failure');
  return JSON.stringify({ status: result.failure.status, headers: result.failure.headers, body: result.failure.body });
}

/** Internals that must never reach a client: addresses, ports, fetch's and the libraries' words. */
function expectNothingInternal(seen: string): void {
  const port = new URL(proxy.url).port;
  for (const internal of ['127.0.0.1', `:${port}`, t.baseUrl, 'http://', 'fetch failed', 'other side closed', 'ECONN', 'socket', 'claim value', 'at ', 'Error:']) {
    expect(seen, `client sees "${internal}"`).not.toContain(internal);
  }
}

describe('twofold/verify: what an anonymous client is told', () => {
  it('an issuer that cannot be reached: 503 with a generic problem body; the URL and the cause are in error.diagnostic', async () => {
    proxy.setDown(true);
    try {
      for (const verifier of [
        verifierFor({ jwksUri: `${proxy.url}/.well-known/jwks.json`, revocations: false }),
        verifierFor({ jwksUri: `${t.baseUrl}/.well-known/jwks.json`, revocations: { url: `${proxy.url}/v1/revoked-sessions` } }),
      ]) {
        const result = await authenticateRequest(verifier, `Bearer ${token}`);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.failure.status).toBe(503);
        expect(result.failure.body).toMatchObject({ code: 'verifier_unavailable', detail: 'Authentication is temporarily unavailable; retry shortly.' });
        expectNothingInternal(whatTheClientSees(result));
        expect(result.error.diagnostic).toContain(proxy.url);
        expect(result.error.diagnostic).toMatch(/fetch failed/);
      }
    } finally {
      proxy.setDown(false);
    }
  });

  it('metadata naming another issuer: 503 without the metadata URL or the issuer it named', async () => {
    const result = await authenticateRequest(verifierFor({ issuer: `${t.baseUrl}/`, revocations: false }), `Bearer ${token}`);
    expect(result.ok ? 200 : result.failure.status).toBe(503);
    expectNothingInternal(whatTheClientSees(result));
    if (!result.ok) expect(result.error.diagnostic).toContain('/.well-known/openid-configuration');
  });

  it("a token refused by the signature library: our words in error_description and detail, the library's in diagnostic", async () => {
    const result = await authenticateRequest(verifierFor({ audience: 'https://another-api.example', revocations: false }), `Bearer ${token}`);
    expect(result.ok ? 200 : result.failure.status).toBe(401);
    if (result.ok) return;
    expect(result.failure.body.detail).toBe('The token was not issued for this service.');
    expect(result.failure.headers['www-authenticate']).toContain('error_description="The token was not issued for this service."');
    expectNothingInternal(whatTheClientSees(result));
    expect(result.error.diagnostic).toMatch(/aud claim value is not allowed/);
  });
});
