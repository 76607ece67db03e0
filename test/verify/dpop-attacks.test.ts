// Attacks on DPoP-bound tokens at a twofold/verify resource server: what someone who stole a bound
// token (or a token and one of its proofs) can try. A positive control first shows the genuine
// request passes, so each refusal below is the check under test and not a broken fixture.
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Base64url } from '../../src/core/crypto/digest.js';
import { authenticateRequest, createVerifier, type Verifier } from '../../src/verify/index.js';
import { hmacToken } from '../helpers/jwt-forgery.js';
import { createDpopTestKey, makeDpopProof, unsignedJws, type DpopTestKey } from '../helpers/dpop-proofs.js';
import { audience, issuer, nowSeconds, startTestIssuer, type TestIssuer } from './dpop-fixture.js';

const url = 'https://api.example.test/transfers';
let testIssuer: TestIssuer;
let verifier: Verifier;
let victim: DpopTestKey;
let attacker: DpopTestKey;
let token: string;

beforeAll(async () => {
  testIssuer = await startTestIssuer();
  verifier = createVerifier({ issuer, audience, jwksUri: testIssuer.jwksUri, revocations: false });
  victim = await createDpopTestKey('ES256');
  attacker = await createDpopTestKey('ES256');
  token = await testIssuer.mint({ boundTo: victim });
});
afterAll(async () => {
  verifier.close();
  await testIssuer.close();
});

type ProofParts = Parameters<typeof makeDpopProof>[0];
const victimProof = (changes: Partial<ProofParts> = {}, forToken = token): Promise<string> =>
  makeDpopProof({ key: victim, htm: 'POST', htu: url, iat: nowSeconds(), ...changes, claims: { ath: sha256Base64url(forToken), ...changes.claims } });

async function attempt(dpop: string | undefined, authorization = `DPoP ${token}`, method = 'POST') {
  return authenticateRequest(verifier, { method, url, authorization, dpop }, { dpop: 'required' });
}

describe('stolen DPoP-bound tokens at twofold/verify', () => {
  it('control: the victim\'s own request is accepted', async () => {
    expect(await attempt(await victimProof())).toMatchObject({ ok: true, claims: { sub: 'user-1' } });
  });

  const attacks: [name: string, dpop: () => Promise<string> | string, authorization?: () => string][] = [
    ['DP-21: the stolen token as Bearer, no proof', () => '', () => `Bearer ${token}`],
    ['DP-22: the stolen token with the attacker\'s own valid proof', () => makeDpopProof({ key: attacker, htm: 'POST', htu: url, iat: nowSeconds(), claims: { ath: sha256Base64url(token) } })],
    ['DP-22: the victim\'s public jwk in the header, signed by the attacker', () => victimProof({ signWith: attacker.privateKey })],
    ['DP-22: the victim\'s jwk with its alg switched to none', () => unsignedJws({ typ: 'dpop+jwt', alg: 'none', jwk: victim.publicJwk }, { jti: 'x', htm: 'POST', htu: url, iat: nowSeconds(), ath: sha256Base64url(token) })],
    ['DP-22: HS256 keyed with the victim\'s public jwk', () => hmacToken('HS256', { typ: 'dpop+jwt', jwk: victim.publicJwk }, { jti: 'x', htm: 'POST', htu: url, iat: nowSeconds(), ath: sha256Base64url(token) }, JSON.stringify(victim.publicJwk))],
    ['DP-22: a captured proof of the victim for another token of the same key (ath)', async () => victimProof({}, await testIssuer.mint({ boundTo: victim }))],
    ['DP-22: a captured proof of the victim for a GET of the same URL (htm)', () => victimProof({ htm: 'GET' })],
    ['DP-22: a captured proof of the victim for another route (htu)', () => victimProof({ htu: 'https://api.example.test/profile' })],
    ['DP-22: a captured proof for another API with the same path (htu host)', () => victimProof({ htu: 'https://other-api.example.test/transfers' })],
    ['DP-22: a proof without ath', () => makeDpopProof({ key: victim, htm: 'POST', htu: url, iat: nowSeconds() })],
    ['DP-22: a proof older than a minute', () => victimProof({ iat: nowSeconds() - 120 })],
    ['DP-22: a proof dated in the future', () => victimProof({ iat: nowSeconds() + 600 })],
    ['DP-22: a proof with typ JWT', () => victimProof({ header: { typ: 'JWT' } })],
    ['DP-22: an RS256 proof (not in the default algorithms)', async () => {
      const rsa = await createDpopTestKey('RS256');
      return makeDpopProof({ key: rsa, htm: 'POST', htu: url, iat: nowSeconds(), claims: { ath: sha256Base64url(token) } });
    }],
  ];

  it.each(attacks)('%s → 401', async (_name, dpop, authorization) => {
    const result = await attempt(await dpop(), authorization?.());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure.status).toBe(401);
    expect(result.failure.body.code).toMatch(/^invalid_(token|dpop_proof)$/);
    expect(result.failure.headers['www-authenticate']).toMatch(/^DPoP /);
  });

  it('DP-23: a captured proof replayed right after the victim used it → 401; the refused attacks above used up nothing of the victim\'s', async () => {
    const captured = await victimProof({ claims: { jti: 'captured-jti' } });
    expect((await attempt(captured)).ok).toBe(true);
    expect(await attempt(captured)).toMatchObject({ ok: false, error: { code: 'invalid_dpop_proof', message: 'The DPoP proof was used already.' } });
  });

  it('DP-23: an attacker proof carrying a jti the victim will use does not burn it', async () => {
    const forged = await victimProof({ signWith: attacker.privateKey, claims: { jti: 'victim-next-jti' } });
    expect((await attempt(forged)).ok).toBe(false);
    expect((await attempt(await victimProof({ claims: { jti: 'victim-next-jti' } }))).ok).toBe(true);
  });

  it('DP-21: a token the attacker binds to their own key cannot be made without the issuer\'s key', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ ...decodeJwt(token), cnf: { jkt: 'attacker' } })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: decodeProtectedHeader(token).kid as string })
      .sign(privateKey);
    const result = await attempt(await makeDpopProof({ key: attacker, htm: 'POST', htu: url, iat: nowSeconds(), claims: { ath: sha256Base64url(forged) } }), `DPoP ${forged}`);
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_token' } });
  });
});
