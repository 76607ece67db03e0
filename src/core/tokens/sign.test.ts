import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AccessTokenClaims, MfaTokenClaims } from './claims.js';
import { signToken } from './sign.js';
import { generateSigningKey, importSigningKey } from './signing-key.js';

const issuer = 'https://auth.example.com';
const accessClaims: AccessTokenClaims = {
  iss: issuer,
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
};
const mfaClaims: MfaTokenClaims = {
  iss: issuer,
  sub: 'usr_1',
  aud: `${issuer}/mfa`,
  iat: 1_700_000_000,
  exp: 1_700_000_300,
  jti: 'jti_2',
  sid: 'ses_1',
  acr: 'aal1',
  amr: ['pwd'],
};

describe('signToken()', () => {
  it('JW-10: an access token has exactly alg, kid and typ "at+jwt" in its protected header', async () => {
    const key = await importSigningKey(await generateSigningKey('EdDSA'));
    const token = await signToken(key, 'access', accessClaims);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' });
  });

  it('FL-02: an mfa token has typ "mfa+jwt"', async () => {
    const key = await importSigningKey(await generateSigningKey('ES256'));
    const token = await signToken(key, 'mfa', mfaClaims);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: key.kid, typ: 'mfa+jwt' });
  });

  it('carries exactly the given claims', async () => {
    const key = await importSigningKey(await generateSigningKey('EdDSA'));
    expect(decodeJwt(await signToken(key, 'access', accessClaims))).toEqual(accessClaims);
    expect(decodeJwt(await signToken(key, 'mfa', mfaClaims))).toEqual(mfaClaims);
  });

  it('is a three-segment compact JWS', async () => {
    const key = await importSigningKey(await generateSigningKey('EdDSA'));
    expect(await signToken(key, 'access', accessClaims)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('refuses to sign with a verify-only key', async () => {
    const generated = await generateSigningKey('EdDSA');
    const key = await importSigningKey({ alg: 'EdDSA', publicJwk: generated.publicJwk });
    await expect(signToken(key, 'access', accessClaims)).rejects.toThrow(TypeError);
  });
});
