// The public key a DPoP proof carries, made ready to check signatures with on the calling thread.
// Why not jose's EmbeddedJWK: it imports the key and verifies through WebCrypto, which runs on the
// libuv threadpool behind argon2 (docs/benchmarks.md measures that wait) and re-imports the key for every proof. A client signs
// every request with the same key, so the imported KeyObject and its thumbprint are kept in a
// bounded cache keyed by the key's own members, and the signature is checked by node:crypto
// synchronously — the cost per proof is then the raw verification plus parsing.
import { createHash, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface ProofKey {
  keyObject: KeyObject;
  /** RFC 7638 SHA-256 thumbprint, base64url. */
  jkt: string;
}

/** Per accepted alg: the key type and curve it must have, and how node:crypto checks its signature. */
const algorithmKeys = {
  ES256: { kty: 'EC', crv: 'P-256', members: ['crv', 'kty', 'x', 'y'], digest: 'sha256', signatureLength: 64 },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', members: ['crv', 'kty', 'x'], digest: null, signatureLength: 64 },
} as const;

export type ProofAlgorithm = keyof typeof algorithmKeys;

export function isProofAlgorithm(alg: string): alg is ProofAlgorithm {
  return Object.hasOwn(algorithmKeys, alg);
}

const maxCachedKeys = 10_000;
const cache = new Map<string, ProofKey>();

/**
 * The key for `jwk` under `alg`, or undefined when the jwk is not a valid public key of the alg's
 * type. The RFC 7638 members, in their lexicographic order, are both the cache key and the
 * thumbprint input — so two jwks that differ only in extra members (kid, use) are one key.
 */
export function proofKeyFor(alg: ProofAlgorithm, jwk: Record<string, unknown>): ProofKey | undefined {
  const shape = algorithmKeys[alg];
  if (jwk['kty'] !== shape.kty || jwk['crv'] !== shape.crv) return undefined;
  const required: Record<string, string> = {};
  for (const member of shape.members) {
    const value = jwk[member];
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) return undefined;
    required[member] = value;
  }
  const canonical = JSON.stringify(required);
  const cached = cache.get(canonical);
  if (cached !== undefined) return cached;
  let keyObject: KeyObject;
  try {
    // node:crypto refuses a point off the curve and a key of the wrong length.
    keyObject = createPublicKey({ key: required as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  const key: ProofKey = { keyObject, jkt: createHash('sha256').update(canonical, 'utf8').digest('base64url') };
  // Oldest first out: a flood of one-off keys costs its own imports, never an unbounded map.
  if (cache.size >= maxCachedKeys) cache.delete(cache.keys().next().value as string);
  cache.set(canonical, key);
  return key;
}

/** True when `signature` (the JWS's third part, decoded) signs `signingInput` under `key`. */
export function proofSignatureVerifies(alg: ProofAlgorithm, key: ProofKey, signingInput: string, signature: Buffer): boolean {
  const shape = algorithmKeys[alg];
  if (signature.length !== shape.signatureLength) return false;
  try {
    // JWS ES256 signatures are r‖s (IEEE P1363), not DER.
    return verify(shape.digest, Buffer.from(signingInput, 'ascii'), { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
