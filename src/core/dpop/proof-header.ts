// A DPoP proof's protected header: typ, alg and the public key the proof is signed with. A client
// sends the very same header (same key, same alg) with every request, so a header that passed is
// remembered by its encoded form and the next proof skips parsing it and importing its key.
import { isProofAlgorithm, proofKeyFor, type ProofAlgorithm, type ProofKey } from './proof-keys.js';
import { decodeJsonObject } from './json-part.js';

export type ProofHeaderResult = { ok: true; alg: ProofAlgorithm; key: ProofKey } | { ok: false; description: string };

/** Members only a private or symmetric JWK has. */
const privateJwkMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** An honest header (typ, alg, an EC or OKP jwk) is ~200 characters; longer ones are read every time. */
const maxCachedHeaderLength = 512;
const maxCachedHeaders = 10_000;
const accepted = new Map<string, ProofHeaderResult & { ok: true }>();

export function readProofHeader(encodedHeader: string): ProofHeaderResult {
  const cached = accepted.get(encodedHeader);
  if (cached !== undefined) return cached;
  const result = parseProofHeader(encodedHeader);
  if (result.ok && encodedHeader.length <= maxCachedHeaderLength) {
    if (accepted.size >= maxCachedHeaders) accepted.delete(accepted.keys().next().value as string);
    accepted.set(encodedHeader, result);
  }
  return result;
}

function parseProofHeader(encodedHeader: string): ProofHeaderResult {
  const refuse = (description: string): ProofHeaderResult => ({ ok: false, description });
  const header = decodeJsonObject(encodedHeader);
  if (header === undefined) return refuse('the DPoP proof header cannot be read');
  if (header['typ'] !== 'dpop+jwt') return refuse('the DPoP proof typ must be dpop+jwt');
  const alg = header['alg'];
  if (typeof alg !== 'string' || !isProofAlgorithm(alg)) return refuse('the DPoP proof alg is not accepted');
  // No JWS extension is understood here, so none may be critical (RFC 7515 §4.1.11), e.g. b64: false.
  if ('crit' in header) return refuse('the DPoP proof names critical header extensions');
  const jwk = header['jwk'];
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return refuse('the DPoP proof has no jwk');
  if (privateJwkMembers.some((member) => member in jwk)) return refuse('the DPoP proof jwk must be a public key');
  // The key must be of the alg's own type (an EC P-256 key for ES256, an Ed25519 key for EdDSA),
  // so a key cannot pick an algorithm we do not accept.
  const key = proofKeyFor(alg, jwk as Record<string, unknown>);
  if (key === undefined) return refuse('the DPoP proof jwk is not a public key for its alg');
  return { ok: true, alg, key };
}
