import { generateKeyPair, SignJWT, exportJWK, base64url } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { mfaAudience, type AccessTokenClaims, type MfaTokenClaims } from './claims.js';
import { signToken } from './sign.js';
import { generateSigningKey, importSigningKey, type SigningKey } from './signing-key.js';
import { maxTokenLength, verifyAccessToken, verifyMfaToken, type TokenVerificationOptions } from './verify.js';

const issuer = 'https://auth.example.com';
const audience = 'https://api.example.com';
const nowSeconds = 1_700_000_000;

let edKey: SigningKey;
let esKey: SigningKey;
let ring: Map<string, SigningKey>;

beforeAll(async () => {
  edKey = await importSigningKey(await generateSigningKey('EdDSA'));
  esKey = await importSigningKey(await generateSigningKey('ES256'));
  ring = new Map([
    [edKey.kid, edKey],
    [esKey.kid, esKey],
  ]);
});

function options(overrides: Partial<TokenVerificationOptions> = {}): TokenVerificationOptions {
  return { issuer, audience, nowSeconds, clockSkewSeconds: 60, findKey: (kid) => ring.get(kid), ...overrides };
}

function accessClaims(overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims {
  return {
    iss: issuer,
    sub: 'usr_1',
    aud: audience,
    client_id: 'twofold',
    iat: nowSeconds,
    exp: nowSeconds + 600,
    jti: 'jti_access',
    sid: 'ses_1',
    auth_time: nowSeconds,
    acr: 'aal2',
    amr: ['pwd', 'otp', 'mfa'],
    ...overrides,
  };
}

function mfaClaims(overrides: Partial<MfaTokenClaims> = {}): MfaTokenClaims {
  return {
    iss: issuer,
    sub: 'usr_1',
    aud: mfaAudience(issuer),
    iat: nowSeconds,
    exp: nowSeconds + 300,
    jti: 'jti_mfa',
    sid: 'ses_1',
    acr: 'aal1',
    amr: ['pwd'],
    ...overrides,
  };
}

function encodeSegment(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

describe('verifyAccessToken()', () => {
  it('accepts an EdDSA access token and returns its claims', async () => {
    const token = await signToken(edKey, 'access', accessClaims());
    expect(await verifyAccessToken(token, options())).toEqual({ ok: true, claims: accessClaims() });
  });

  it('accepts an ES256 access token', async () => {
    const token = await signToken(esKey, 'access', accessClaims());
    const result = await verifyAccessToken(token, options());
    expect(result.ok).toBe(true);
  });

  it('JW-08: refuses a token issued more than the skew in the future, accepts one within it', async () => {
    const future = await signToken(edKey, 'access', accessClaims({ iat: nowSeconds + 61, exp: nowSeconds + 661 }));
    expect(await verifyAccessToken(future, options())).toEqual({ ok: false, reason: 'iat in the future' });
    const slightlyAhead = await signToken(edKey, 'access', accessClaims({ iat: nowSeconds + 30, exp: nowSeconds + 630 }));
    expect((await verifyAccessToken(slightlyAhead, options())).ok).toBe(true);
  });

  it('JW-15: refuses a non-canonical spelling of a valid token (unused bits set in a segment)', async () => {
    const token = await signToken(edKey, 'access', accessClaims());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(signature.slice(-1)) ^ 1]}`;
    expect(Buffer.from(twin, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
    expect(await verifyAccessToken(`${header}.${payload}.${twin}`, options())).toEqual({ ok: false, reason: 'non-canonical base64url' });
  });

  it('accepts an asynchronous findKey', async () => {
    const token = await signToken(edKey, 'access', accessClaims());
    const result = await verifyAccessToken(token, options({ findKey: async (kid) => ring.get(kid) }));
    expect(result.ok).toBe(true);
  });

  it('FL-02/JW-10: refuses an mfa token', async () => {
    const token = await signToken(edKey, 'mfa', mfaClaims());
    expect((await verifyAccessToken(token, options())).ok).toBe(false);
  });

  it('FL-02/JW-10: refuses mfa claims even under the access typ (aud and acr differ)', async () => {
    const token = await signToken(edKey, 'access', mfaClaims() as unknown as AccessTokenClaims);
    expect((await verifyAccessToken(token, options())).ok).toBe(false);
    // Even with the audience lined up, the claim shape (acr aal1, no client_id) is refused.
    const sameAudience = await signToken(edKey, 'access', mfaClaims({ aud: audience as never }) as unknown as AccessTokenClaims);
    expect(await verifyAccessToken(sameAudience, options())).toEqual({ ok: false, reason: 'unexpected claims' });
  });

  it('FL-02: refuses an access token whose typ is anything but at+jwt', async () => {
    const key = edKey.privateKey!;
    for (const typ of ['JWT', 'jwt', 'mfa+jwt', 'application/jwt']) {
      const token = await new SignJWT({ ...accessClaims() }).setProtectedHeader({ alg: 'EdDSA', kid: edKey.kid, typ }).sign(key);
      expect((await verifyAccessToken(token, options())).ok, typ).toBe(false);
    }
    const untyped = await new SignJWT({ ...accessClaims() }).setProtectedHeader({ alg: 'EdDSA', kid: edKey.kid }).sign(key);
    expect((await verifyAccessToken(untyped, options())).ok).toBe(false);
  });

  it('JW-09: refuses a wrong issuer', async () => {
    const token = await signToken(edKey, 'access', accessClaims({ iss: 'https://evil.example.com' }));
    expect((await verifyAccessToken(token, options())).ok).toBe(false);
    // The issuer is matched exactly, not as a prefix.
    const trailingSlash = await signToken(edKey, 'access', accessClaims({ iss: `${issuer}/` }));
    expect((await verifyAccessToken(trailingSlash, options())).ok).toBe(false);
  });

  it('JW-09: refuses a wrong audience', async () => {
    const token = await signToken(edKey, 'access', accessClaims({ aud: 'https://other-api.example.com' }));
    expect((await verifyAccessToken(token, options())).ok).toBe(false);
    const correct = await signToken(edKey, 'access', accessClaims());
    expect((await verifyAccessToken(correct, options({ audience: 'https://other-api.example.com' }))).ok).toBe(false);
  });

  it('JW-09: refuses a token without iss or without aud (a missing claim is not a matching one)', async () => {
    const { iss: _iss, ...withoutIss } = accessClaims();
    const { aud: _aud, ...withoutAud } = accessClaims();
    for (const claims of [withoutIss, withoutAud]) {
      const token = await signToken(edKey, 'access', claims as AccessTokenClaims);
      expect(await verifyAccessToken(token, options())).toEqual({ ok: false, reason: 'FAST_JWT_MISSING_REQUIRED_CLAIM' });
    }
  });

  it('JW-08: accepts a token expired within the 60 s skew', async () => {
    const exp = nowSeconds + 600;
    const token = await signToken(edKey, 'access', accessClaims({ exp }));
    expect((await verifyAccessToken(token, options({ nowSeconds: exp + 30 }))).ok).toBe(true);
    expect((await verifyAccessToken(token, options({ nowSeconds: exp + 59 }))).ok).toBe(true);
  });

  it('JW-08: refuses a token at exp + 61 s', async () => {
    const exp = nowSeconds + 600;
    const token = await signToken(edKey, 'access', accessClaims({ exp }));
    const result = await verifyAccessToken(token, options({ nowSeconds: exp + 61 }));
    expect(result).toEqual({ ok: false, reason: 'expired' });
  });

  it('JW-08: with zero skew refuses a token at exp', async () => {
    const exp = nowSeconds + 600;
    const token = await signToken(edKey, 'access', accessClaims({ exp }));
    expect((await verifyAccessToken(token, options({ nowSeconds: exp - 1, clockSkewSeconds: 0 }))).ok).toBe(true);
    expect((await verifyAccessToken(token, options({ nowSeconds: exp, clockSkewSeconds: 0 }))).ok).toBe(false);
  });

  it('JW-08: refuses a token without exp', async () => {
    const { exp: _exp, ...withoutExp } = accessClaims();
    const token = await signToken(edKey, 'access', withoutExp as AccessTokenClaims);
    expect((await verifyAccessToken(token, options())).ok).toBe(false);
  });

  it('JW-08: refuses a token whose nbf is beyond the skew', async () => {
    const token = await signToken(edKey, 'access', { ...accessClaims(), nbf: nowSeconds + 120 } as AccessTokenClaims);
    expect((await verifyAccessToken(token, options())).ok).toBe(false);
  });

  it.each(['sub', 'jti', 'sid', 'iat', 'client_id', 'auth_time', 'amr'] as const)('refuses an access token without %s', async (claim) => {
    const claims: Record<string, unknown> = { ...accessClaims() };
    delete claims[claim];
    const token = await signToken(edKey, 'access', claims as unknown as AccessTokenClaims);
    expect((await verifyAccessToken(token, options())).ok).toBe(false);
  });

  it('OB-05: accepts acr aal1 (a session from an e-mail code) and refuses any other acr', async () => {
    const aal1 = await signToken(edKey, 'access', accessClaims({ acr: 'aal1', amr: ['pwd', 'email'] }));
    expect((await verifyAccessToken(aal1, options())).ok).toBe(true);
    const aal3 = await signToken(edKey, 'access', { ...accessClaims(), acr: 'aal3' } as unknown as AccessTokenClaims);
    expect(await verifyAccessToken(aal3, options())).toEqual({ ok: false, reason: 'unexpected claims' });
  });

  it('JW-05: refuses an unknown kid without throwing', async () => {
    const otherKey = await importSigningKey(await generateSigningKey('EdDSA'));
    const token = await signToken(otherKey, 'access', accessClaims());
    expect(await verifyAccessToken(token, options())).toEqual({ ok: false, reason: 'no matching key' });
  });

  it('JW-05: treats a path-like or SQL-like kid as an opaque lookup key', async () => {
    const seen: string[] = [];
    for (const kid of ['../../dev/null', "' OR 1=1 --", '']) {
      const token = await signToken({ ...edKey, kid }, 'access', accessClaims());
      const result = await verifyAccessToken(
        token,
        options({
          findKey: (requested) => {
            seen.push(requested);
            return ring.get(requested);
          },
        }),
      );
      expect(result.ok, kid).toBe(false);
    }
    // Each kid reaches findKey verbatim (no path or SQL interpretation happens here).
    expect(seen).toEqual(['../../dev/null', "' OR 1=1 --", '']);
  });

  it('JW-03: refuses a kid naming a key of another algorithm', async () => {
    // Signed with the EdDSA key but labelled with the ES256 key's kid.
    const token = await signToken({ ...edKey, kid: esKey.kid }, 'access', accessClaims());
    expect(await verifyAccessToken(token, options())).toEqual({ ok: false, reason: 'no matching key' });
  });

  it('JW-03: refuses HS256 signed with the public key material of a ring key', async () => {
    const publicBytes = base64url.decode(edKey.publicJwk.x!);
    const token = await new SignJWT({ ...accessClaims() }).setProtectedHeader({ alg: 'HS256', kid: edKey.kid, typ: 'at+jwt' }).sign(publicBytes);
    expect((await verifyAccessToken(token, options())).ok).toBe(false);
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('JW-02: refuses alg %j, with or without a signature', async (alg) => {
    const header = encodeSegment({ alg, kid: edKey.kid, typ: 'at+jwt' });
    const payload = encodeSegment(accessClaims());
    expect((await verifyAccessToken(`${header}.${payload}.`, options())).ok).toBe(false);
    expect((await verifyAccessToken(`${header}.${payload}.AAAA`, options())).ok).toBe(false);
  });

  it('JW-01: refuses a tampered payload with the original signature', async () => {
    const token = await signToken(edKey, 'access', accessClaims());
    const [header, , signature] = token.split('.');
    const forged = encodeSegment(accessClaims({ sub: 'usr_victim' }));
    expect((await verifyAccessToken(`${header}.${forged}.${signature}`, options())).ok).toBe(false);
  });

  it('JW-01: refuses a stripped signature', async () => {
    const token = await signToken(edKey, 'access', accessClaims());
    const [header, payload] = token.split('.');
    expect((await verifyAccessToken(`${header}.${payload}.`, options())).ok).toBe(false);
  });

  it('JW-07: refuses an all-zero ES256 signature (psychic signature)', async () => {
    const token = await signToken(esKey, 'access', accessClaims());
    const [header, payload] = token.split('.');
    const zero = base64url.encode(new Uint8Array(64));
    expect((await verifyAccessToken(`${header}.${payload}.${zero}`, options())).ok).toBe(false);
    expect((await verifyAccessToken(`${header}.${payload}.MAYCAQACAQA`, options())).ok).toBe(false);
  });

  it('JW-04: refuses a token signed by a key embedded in its own header (jwk)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(publicKey);
    for (const kid of [undefined, edKey.kid]) {
      const token = await new SignJWT({ ...accessClaims() })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', jwk, ...(kid === undefined ? {} : { kid }) })
        .sign(privateKey);
      expect((await verifyAccessToken(token, options())).ok).toBe(false);
    }
  });

  it('JW-12: refuses an unknown crit header', async () => {
    const token = await new SignJWT({ ...accessClaims() })
      .setProtectedHeader({ alg: 'EdDSA', kid: edKey.kid, typ: 'at+jwt', crit: ['foo'], foo: 1 })
      .sign(edKey.privateKey!, { crit: { foo: true } });
    expect(await verifyAccessToken(token, options())).toEqual({ ok: false, reason: 'FAST_JWT_INVALID_CRIT_HEADER' });
  });

  it.each([
    ['garbage', 'garbage'],
    ['empty', ''],
    ['four segments', 'aaaa.bbbb.cccc.dddd'],
    ['two segments', 'aaaa.bbbb'],
    ['non-JSON segments', 'aaaa.bbbb.cccc'],
    ['padding', 'aaaa=.bbbb.cccc'],
  ])('JW-12: refuses a malformed token (%s) without throwing', async (_label, token) => {
    const result = await verifyAccessToken(token, options());
    expect(result.ok).toBe(false);
  });

  it('refuses a token over 4096 characters before any lookup or crypto, even if correctly signed', async () => {
    let lookups = 0;
    const countingOptions = options({
      findKey: (kid) => {
        lookups += 1;
        return ring.get(kid);
      },
    });
    const token = await signToken(edKey, 'access', accessClaims({ amr: ['pwd', 'otp', 'mfa', 'x'.repeat(4000)] }));
    expect(token.length).toBeGreaterThan(maxTokenLength);
    expect(maxTokenLength).toBe(4096);
    expect(await verifyAccessToken(token, countingOptions)).toEqual({ ok: false, reason: 'not a compact JWS' });
    expect(lookups).toBe(0);
    // A large token under the limit still verifies: the limit, not the size, refused the first.
    const large = await signToken(edKey, 'access', accessClaims({ amr: ['pwd', 'otp', 'mfa', 'x'.repeat(2500)] }));
    expect(large.length).toBeLessThanOrEqual(maxTokenLength);
    expect((await verifyAccessToken(large, countingOptions)).ok).toBe(true);
    expect(lookups).toBe(1);
  });

  it('a token signed by a retired key still verifies while that key is in the ring', async () => {
    const retired = await importSigningKey(await generateSigningKey('EdDSA'));
    const token = await signToken(retired, 'access', accessClaims());
    const ringWithRetired = new Map([...ring, [retired.kid, { ...retired, privateKey: undefined }]]);
    expect((await verifyAccessToken(token, options({ findKey: (kid) => ringWithRetired.get(kid) }))).ok).toBe(true);
    expect((await verifyAccessToken(token, options())).ok).toBe(false);
  });
});

describe('verifyMfaToken()', () => {
  it('accepts an mfa token and returns its claims', async () => {
    const token = await signToken(edKey, 'mfa', mfaClaims());
    expect(await verifyMfaToken(token, options())).toEqual({ ok: true, claims: mfaClaims() });
  });

  it('FL-02/JW-10: refuses an access token', async () => {
    const token = await signToken(edKey, 'access', accessClaims());
    expect((await verifyMfaToken(token, options())).ok).toBe(false);
  });

  it('FL-02: refuses access claims under the mfa typ and audience (acr aal2, amr beyond pwd)', async () => {
    const token = await signToken(edKey, 'mfa', accessClaims({ aud: mfaAudience(issuer) }) as unknown as MfaTokenClaims);
    expect(await verifyMfaToken(token, options())).toEqual({ ok: false, reason: 'unexpected claims' });
  });

  it('FL-02: refuses an mfa token whose audience is the access audience', async () => {
    const token = await signToken(edKey, 'mfa', mfaClaims({ aud: audience }));
    expect((await verifyMfaToken(token, options())).ok).toBe(false);
  });

  it('FL-06: refuses an mfa token that claims more than "pwd" in amr', async () => {
    const token = await signToken(edKey, 'mfa', { ...mfaClaims(), amr: ['pwd', 'otp'] } as unknown as MfaTokenClaims);
    expect((await verifyMfaToken(token, options())).ok).toBe(false);
  });

  it('JW-09: refuses a wrong issuer', async () => {
    const token = await signToken(edKey, 'mfa', mfaClaims({ iss: 'https://evil.example.com', aud: mfaAudience('https://evil.example.com') }));
    expect((await verifyMfaToken(token, options())).ok).toBe(false);
  });

  it('JW-08: accepts within the skew and refuses at exp + 61 s', async () => {
    const exp = nowSeconds + 300;
    const token = await signToken(esKey, 'mfa', mfaClaims({ exp }));
    expect((await verifyMfaToken(token, options({ nowSeconds: exp + 59 }))).ok).toBe(true);
    expect((await verifyMfaToken(token, options({ nowSeconds: exp + 61 }))).ok).toBe(false);
  });

  it('JW-05: refuses an unknown kid', async () => {
    const token = await signToken(edKey, 'mfa', mfaClaims());
    expect((await verifyMfaToken(token, options({ findKey: () => undefined }))).ok).toBe(false);
  });
});
