// Signing keys: one asymmetric algorithm per key (EdDSA/Ed25519 by default, ES256 as an option;
// never HS*, so holding the JWKS never lets anyone mint tokens). The kid is the RFC 7638 JWK
// thumbprint: stable, derived from the key itself, and only ever used as a lookup key.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

export type SigningAlgorithm = 'EdDSA' | 'ES256';

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  /** Public JWK as published in the JWKS (kid, alg, use included; no private members). */
  publicJwk: JWK;
  publicKey: CryptoKey;
  /** Present only on keys this process may sign with. */
  privateKey: CryptoKey | undefined;
}

export interface GeneratedSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  privateJwk: JWK;
}

const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

export function publicPartOf(jwk: JWK): JWK {
  const copy: JWK = { ...jwk };
  for (const member of privateMembers) delete copy[member];
  return copy;
}

export async function generateSigningKey(alg: SigningAlgorithm): Promise<GeneratedSigningKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicPartOf(privateJwk), 'sha256');
  const publicJwk: JWK = { ...publicPartOf(privateJwk), kid, alg, use: 'sig' };
  return { kid, alg, publicJwk, privateJwk: { ...privateJwk, kid, alg } };
}

export async function importSigningKey(input: { alg: SigningAlgorithm; publicJwk: JWK; privateJwk?: JWK | undefined }): Promise<SigningKey> {
  const kid = input.publicJwk.kid;
  if (kid === undefined) throw new TypeError('a signing key needs a kid');
  const publicKey = (await importJWK(publicPartOf(input.publicJwk), input.alg)) as CryptoKey;
  const privateKey = input.privateJwk === undefined ? undefined : ((await importJWK(input.privateJwk, input.alg)) as CryptoKey);
  return { kid, alg: input.alg, publicJwk: input.publicJwk, publicKey, privateKey };
}
