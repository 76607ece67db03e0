// Checks a DPoP proof (RFC 9449 §4.3): a JWS the client signs per request with its own key, carried
// in the DPoP header. What makes it a proof of possession: the public key is in the header and the
// signature is checked with it (its thumbprint is what a token gets bound to); the claims tie it to
// this one request (htm, htu), to a short time (iat), to the access token it accompanies (ath) and
// to a fresh server nonce when one is required; the jti makes it single use.
//
// Every refusal is a result, never a throw — only the replay store's own failure (e.g. Redis down)
// propagates. The jti is claimed last, after the signature and every claim passed: an invalid proof
// must not burn someone else's jti.
import { constantTimeEqual } from '../crypto/constant-time.js';
import { sha256Base64url } from '../crypto/digest.js';
import { normalizeHtu } from './htu.js';
import { decodeJsonObject } from './json-part.js';
import { readProofHeader } from './proof-header.js';
import { isProofAlgorithm, proofSignatureVerifies } from './proof-keys.js';
import type { DpopReplayStore } from './replay-store.js';

export const defaultDpopAlgs: readonly string[] = ['ES256', 'EdDSA'];
/** Larger than any honest proof (an RSA-4096 jwk stays under 1.5 KiB); refused before parsing. */
export const maxDpopProofLength = 8 * 1024;
const maxJtiLength = 256;
const defaultMaxAgeSeconds = 60;
const defaultClockSkewSeconds = 5;
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface DpopNonceCheck {
  check(nonce: string): boolean;
}

export interface DpopProofCheckOptions {
  /** The request's method, e.g. 'POST'. */
  method: string;
  /** The request's full URL as the server sees it from outside (scheme and host included). */
  url: string;
  /** Milliseconds, the caller's clock. */
  now: number;
  /** Given when the proof accompanies an access token: its ath must be the token's hash. */
  accessToken?: string;
  /** Given when the server requires a nonce: the proof's nonce must pass it. */
  nonce?: DpopNonceCheck;
  replay: DpopReplayStore;
  /** Defaults to ES256 and EdDSA, the only two this checker knows; `none`, HS* and anything else are never accepted. */
  allowedAlgs?: readonly string[];
  maxAgeSeconds?: number;
  clockSkewSeconds?: number;
}

export type DpopProofError = 'invalid_dpop_proof' | 'use_dpop_nonce';

export type DpopProofResult =
  | { ok: true; jkt: string; jti: string; iat: number }
  | { ok: false; error: DpopProofError; description: string };

/** A refusal's description ("the DPoP proof is too old") as the sentence an answer shows. */
export function dpopRefusalSentence(description: string): string {
  return `${description.charAt(0).toUpperCase()}${description.slice(1)}.`;
}

function refuse(description: string, error: DpopProofError = 'invalid_dpop_proof'): DpopProofResult {
  return { ok: false, error, description };
}

export async function checkDpopProof(proof: unknown, options: DpopProofCheckOptions): Promise<DpopProofResult> {
  if (typeof proof !== 'string' || proof.length === 0) return refuse('the DPoP proof is missing');
  if (proof.length > maxDpopProofLength) return refuse('the DPoP proof is too large');
  if (!compactJws.test(proof)) return refuse('the DPoP proof is not one compact JWS');

  const allowedAlgs = (options.allowedAlgs ?? defaultDpopAlgs).filter(isProofAlgorithm);
  const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = proof.split('.');
  const header = readProofHeader(encodedHeader);
  if (!header.ok) return refuse(header.description);
  const { alg, key } = header;
  if (!allowedAlgs.includes(alg)) return refuse('the DPoP proof alg is not accepted');
  if (!proofSignatureVerifies(alg, key, `${encodedHeader}.${encodedPayload}`, Buffer.from(encodedSignature, 'base64url'))) {
    return refuse('the DPoP proof signature does not verify with its jwk');
  }
  const payload = decodeJsonObject(encodedPayload);
  if (payload === undefined) return refuse('the DPoP proof claims cannot be read');

  const { jti, htm, htu, iat } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > maxJtiLength) return refuse('the DPoP proof jti is missing or too long');
  if (htm !== options.method) return refuse('the DPoP proof htm does not match the request method');
  if (typeof htu !== 'string' || !htuMatches(htu, options.url)) return refuse('the DPoP proof htu does not match the request URL');

  const maxAgeSeconds = options.maxAgeSeconds ?? defaultMaxAgeSeconds;
  const clockSkewSeconds = options.clockSkewSeconds ?? defaultClockSkewSeconds;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return refuse('the DPoP proof iat is missing');
  const nowSeconds = options.now / 1000;
  if (iat < nowSeconds - maxAgeSeconds) return refuse('the DPoP proof is too old');
  if (iat > nowSeconds + clockSkewSeconds) return refuse('the DPoP proof iat is in the future');
  // Optional in a proof, but honoured when present, as any JWT validator would.
  if (payload['exp'] !== undefined && (typeof payload['exp'] !== 'number' || payload['exp'] <= nowSeconds - clockSkewSeconds)) return refuse('the DPoP proof has expired');
  if (payload['nbf'] !== undefined && (typeof payload['nbf'] !== 'number' || payload['nbf'] > nowSeconds + clockSkewSeconds)) return refuse('the DPoP proof is not valid yet');

  if (options.accessToken !== undefined) {
    const ath = payload['ath'];
    if (typeof ath !== 'string' || !constantTimeEqual(ath, sha256Base64url(options.accessToken))) return refuse('the DPoP proof ath does not match the access token');
  }
  if (options.nonce !== undefined) {
    const nonce = payload['nonce'];
    if (typeof nonce !== 'string' || !options.nonce.check(nonce)) return refuse('a fresh DPoP nonce is required', 'use_dpop_nonce');
  }

  const { jkt } = key;
  // Held as long as a proof with this iat is accepted (its age limit plus the skew it may be ahead).
  const ttlMs = Math.ceil((iat + clockSkewSeconds - nowSeconds + maxAgeSeconds) * 1000);
  // The jti is bounded (256 characters), so the pair itself is the key: no hash per proof.
  const replayKey = `${jkt}:${jti}`;
  if (!(await options.replay.claimOnce(replayKey, Math.max(ttlMs, 1000)))) return refuse('the DPoP proof was used already');
  return { ok: true, jkt, jti, iat };
}

/** The same URL after normalization; a client that wrote exactly the URL asked for (no query or fragment) needs none. */
function htuMatches(htu: string, requestUrl: string): boolean {
  if (htu === requestUrl && /^https?:\/\/[^?#]*$/.test(requestUrl)) return true;
  const expected = normalizeHtu(requestUrl);
  return expected !== undefined && normalizeHtu(htu) === expected;
}
