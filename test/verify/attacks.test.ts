// The JWT attacks of JW-01..JW-15, aimed at twofold/verify instead of the server: a
// resource server must refuse every forgery the server refuses. A positive control first shows
// that a token re-signed with the real key and the right claims is accepted, so each refusal
// below is the check under test and not a broken forgery. Run for both signing algorithms.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey } from 'node:crypto';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, VerificationError, type Verifier } from '../../src/verify/index.js';
import { signUp } from '../helpers/flow.js';
import { assemble, b64uJson, hmacToken, p256Order, partsOf, realKeyOf, signWithRealKey, to32Bytes, type Header, type RealKey } from '../helpers/jwt-forgery.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';

type Forgery = [name: string, token: () => Promise<string> | string];

for (const algorithm of ['EdDSA', 'ES256'] as const) {
  describe(`twofold/verify refuses forged tokens (${algorithm} issuer)`, () => {
    let t: ListeningTwofold;
    let verifier: Verifier;
    let key: RealKey;
    let token: string;
    let claims: JWTPayload;
    let canary: Server;
    let canaryUrl: string;
    const canaryRequests: string[] = [];
    const header = (): Header => ({ kid: key.kid, typ: 'at+jwt' });
    const resign = (changes: Header, payload: JWTPayload = claims, options?: { crit?: Record<string, boolean> }) => signWithRealKey(key, { ...header(), ...changes }, payload, options);
    const attackerSigned = async (extra: Header): Promise<string> => {
      const attacker = await generateKeyPair('ES256', { extractable: true });
      const jwk = await exportJWK(attacker.publicKey);
      return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...extra, ...(extra['jwk'] === true ? { jwk } : {}) } as never).sign(attacker.privateKey);
    };

    beforeAll(async () => {
      canary = createServer((request, response) => {
        canaryRequests.push(request.url ?? '');
        response.end('{}');
      });
      await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
      canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
      t = await startListeningTwofold({ env: { TWOFOLD_SIGNING_ALG: algorithm } });
      token = (await signUp(t)).accessToken;
      claims = decodeJwt(token);
      key = await realKeyOf(t);
      verifier = createVerifier({ issuer: t.baseUrl, audience: t.config.audience, now: t.clock.now, revocations: false, jwksRefreshCooldownMs: 0 });
    });
    afterAll(async () => {
      verifier.close();
      await t.close();
      await new Promise((resolve) => canary.close(resolve));
    });

    it('control: the real token, and the same claims re-signed with the real key, are accepted', async () => {
      await expect(verifier.verify(token)).resolves.toMatchObject({ sub: claims.sub });
      await expect(verifier.verify(await resign({}, { ...claims, jti: 'control' }))).resolves.toMatchObject({ jti: 'control' });
    });

    const now = () => Math.floor(t.clock.now() / 1000);
    const publicPem = () => createPublicKey({ key: key.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const forgeries: Forgery[] = [
      ['JW-01: one payload character changed', () => {
        const { h, p, s } = partsOf(token);
        return `${h}.${p.slice(0, 10)}${p[10] === 'A' ? 'B' : 'A'}${p.slice(11)}.${s}`;
      }],
      ['JW-01: one signature character changed', () => {
        const { h, p, s } = partsOf(token);
        // Character 5 carries only signature bits (not the last character's padding bits).
        return `${h}.${p}.${s.slice(0, 5)}${s[5] === 'A' ? 'B' : 'A'}${s.slice(6)}`;
      }],
      ...['none', 'None', 'NONE', 'nOnE'].map((alg): Forgery => [`JW-02: alg ${alg} with an empty signature`, () => assemble({ ...partsOf(token).header, alg }, claims, '')]),
      ['JW-02: the signature stripped', () => `${partsOf(token).h}.${partsOf(token).p}.`],
      ['JW-03: HS256 keyed with the public key (PEM)', () => hmacToken('HS256', header(), claims, publicPem())],
      ['JW-03: HS256 keyed with the public JWK (JSON)', () => hmacToken('HS256', header(), claims, JSON.stringify(key.publicJwk))],
      ['JW-03: HS512 with an empty secret', () => hmacToken('HS512', header(), claims, '')],
      ['JW-03: an attacker ES256 token naming the real kid', () => attackerSigned({ kid: key.kid })],
      ['JW-04: an attacker key embedded as "jwk"', () => attackerSigned({ jwk: true })],
      ['JW-04: an attacker key embedded as "jwk" with the real kid', () => attackerSigned({ jwk: true, kid: key.kid })],
      ['JW-04: "jku" pointing at an attacker JWKS', () => attackerSigned({ kid: 'attacker', jku: `${canaryUrl}/jwks.json` })],
      ['JW-04: "x5u" pointing at an attacker certificate', () => attackerSigned({ kid: 'attacker', x5u: `${canaryUrl}/cert.pem` })],
      ['JW-05: kid ../../dev/null', () => resign({ kid: '../../dev/null' })],
      ['JW-05: kid with SQL', () => resign({ kid: "' OR 1=1 --" })],
      ['JW-05: an empty kid', () => resign({ kid: '' })],
      ['JW-05: a numeric kid', () => resign({ kid: 7 })],
      ['JW-07: ECDSA psychic signature (r = s = 0)', () => `${b64uJson({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })}.${partsOf(token).p}.${Buffer.alloc(64).toString('base64url')}`],
      ['JW-07: ECDSA signature with r = s = n', () => `${b64uJson({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })}.${partsOf(token).p}.${Buffer.concat([to32Bytes(p256Order), to32Bytes(p256Order)]).toString('base64url')}`],
      ['JW-08: no exp', () => resign({}, { ...claims, exp: undefined })],
      ['JW-08: exp as a string', () => resign({}, { ...claims, exp: String(now() + 600) as never })],
      ['JW-08: expired beyond the tolerance', () => resign({}, { ...claims, exp: now() - 31 })],
      ['JW-08: nbf in the future', () => resign({}, { ...claims, nbf: now() + 3600 })],
      ['JW-08: iat in the future', () => resign({}, { ...claims, iat: now() + 3600 })],
      ['JW-09: another issuer', () => resign({}, { ...claims, iss: 'https://evil.example' })],
      ['JW-09: another audience', () => resign({}, { ...claims, aud: 'https://other-api.example' })],
      ['JW-09: no audience', () => resign({}, { ...claims, aud: undefined })],
      ['JW-10: typ JWT', () => resign({ typ: 'JWT' })],
      ['JW-10: no typ', () => resign({ typ: undefined })],
      ['JW-10 / FL-02: typ mfa+jwt (an mfa_token)', () => resign({ typ: 'mfa+jwt' }, { ...claims, aud: `${t.baseUrl}/mfa` })],
      ['JW-11: no sid', () => resign({}, { ...claims, sid: undefined })],
      ['JW-11: amr not an array', () => resign({}, { ...claims, amr: 'otp' })],
      ['JW-11: no auth_time', () => resign({}, { ...claims, auth_time: undefined })],
      ['JW-12: crit with an unknown extension', () => resign({ crit: ['foo'], foo: 1 }, claims, { crit: { foo: true } })],
      ['JW-12: four segments', () => `${token}.${partsOf(token).s}`],
      ['JW-12: a payload that is not an object', async () => {
        const { h } = partsOf(await resign({}));
        return `${h}.${Buffer.from('[1]').toString('base64url')}.${partsOf(token).s}`;
      }],
      ['JW-15: padding appended to the signature', () => `${token}=`],
    ];

    it.each(forgeries)('%s is refused as invalid_token', async (_name, forge) => {
      const forged = await forge();
      expect(forged).not.toBe(token);
      const error = await verifier.verify(forged).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(VerificationError);
      expect((error as VerificationError).code).toBe('invalid_token');
    });

    it('JW-04: no header URL was ever fetched', () => {
      expect(canaryRequests).toEqual([]);
    });
  });
}
