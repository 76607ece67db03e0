// Interop: the access token verifies with a second, independent JWT library (fast-jwt, which
// does not share code with jose) against nothing but the published JWKS.
import { createPublicKey } from 'node:crypto';
import { createVerifier, type DecodedJwt } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, signUp } from '../helpers/flow.js';
import { startTestTwofold, testPublicUrl, type TestTwofold } from '../helpers/twofold.js';

describe.each(['EdDSA', 'ES256'] as const)('%s access tokens verified by fast-jwt', (algorithm) => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold({ env: { TWOFOLD_SIGNING_ALG: algorithm } });
  });
  afterAll(async () => t.close());

  async function verifierFromJwks() {
    const { keys } = (await getJson(t.app, '/.well-known/jwks.json')).json();
    const pemByKid = new Map<string, string>(
      keys.map((jwk: { kid: string }) => [jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()]),
    );
    return createVerifier({
      key: async (decoded: DecodedJwt) => {
        const pem = pemByKid.get(String(decoded.header['kid']));
        if (pem === undefined) throw new Error('unknown kid');
        return pem;
      },
      algorithms: [algorithm],
      allowedIss: testPublicUrl,
      allowedAud: testPublicUrl,
      clockTimestamp: t.clock.now(),
      complete: true,
    });
  }

  it('accepts a genuine token and reads the RFC 9068 header and claims', async () => {
    const user = await signUp(t);
    const verify = await verifierFromJwks();
    const { header, payload } = await verify(user.accessToken);
    expect(header).toMatchObject({ alg: algorithm, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: user.userId, acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
  });

  it('rejects the same token with one payload character changed (JW-01)', async () => {
    const user = await signUp(t);
    const verify = await verifierFromJwks();
    const [head, body, signature] = user.accessToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'usr_someone_else' })).toString('base64url');
    await expect(verify(`${head}.${forged}.${signature}`)).rejects.toThrow();
  });
});
