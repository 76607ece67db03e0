import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { buildJwks } from './jwks.js';
import { signToken } from './sign.js';
import { generateSigningKey, importSigningKey } from './signing-key.js';

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

describe('buildJwks()', () => {
  it('publishes kid, alg and use "sig" for every key (current and previous)', async () => {
    const edKey = await importSigningKey(await generateSigningKey('EdDSA'));
    const esKey = await importSigningKey(await generateSigningKey('ES256'));
    const jwks = buildJwks([edKey, esKey]);
    expect(jwks.keys).toHaveLength(2);
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: edKey.kid, alg: 'EdDSA', use: 'sig' });
    expect(jwks.keys[1]).toMatchObject({ kty: 'EC', crv: 'P-256', kid: esKey.kid, alg: 'ES256', use: 'sig' });
  });

  it('JW private: publishes no private members (d), even when a key was imported with them in its public JWK', async () => {
    const generated = await generateSigningKey('EdDSA');
    const careless = await importSigningKey({ alg: 'EdDSA', publicJwk: generated.privateJwk, privateJwk: generated.privateJwk });
    expect(careless.publicJwk).toHaveProperty('d');
    const jwks = buildJwks([careless, await importSigningKey(await generateSigningKey('ES256'))]);
    for (const jwk of jwks.keys) {
      for (const member of privateMembers) expect(jwk).not.toHaveProperty(member);
    }
    expect(JSON.stringify(jwks)).not.toContain(generated.privateJwk.d!);
  });

  it('an empty ring gives an empty key set', () => {
    expect(buildJwks([])).toEqual({ keys: [] });
  });

  it('lets an independent verifier (jose createLocalJWKSet) check a Twofold token', async () => {
    const key = await importSigningKey(await generateSigningKey('EdDSA'));
    const token = await signToken(key, 'access', {
      iss: 'https://auth.example.com',
      sub: 'usr_1',
      aud: 'https://api.example.com',
      client_id: 'twofold',
      iat: 1_700_000_000,
      exp: 1_700_000_600,
      jti: 'jti_1',
      sid: 'ses_1',
      auth_time: 1_700_000_000,
      acr: 'aal2',
      amr: ['pwd', 'otp', 'mfa'],
    });
    const { payload } = await jwtVerify(token, createLocalJWKSet(buildJwks([key])), {
      issuer: 'https://auth.example.com',
      audience: 'https://api.example.com',
      typ: 'at+jwt',
      currentDate: new Date(1_700_000_100_000),
    });
    expect(payload.sub).toBe('usr_1');
  });
});
