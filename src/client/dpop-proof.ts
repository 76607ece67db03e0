// DPoP proofs (RFC 9449 §4.2) made with WebCrypto alone — no JOSE library — so twofold/client runs
// unchanged in browsers and in Node 20 (both have globalThis.crypto.subtle).
//
// A proof is a JWS in the compact serialization: base64url(header) "." base64url(payload) "."
// base64url(signature), signed over the ASCII of the first two parts (RFC 7515 §7.1). Only ES256
// (ECDSA P-256 with SHA-256) is made: every DPoP server accepts it, and WebCrypto's ECDSA signature
// is already the 64-byte r||s that JWS wants (RFC 7518 §3.4) — no DER to unwrap.
//
// The header carries the PUBLIC key as a JWK, reduced to kty/crv/x/y; its RFC 7638 thumbprint is
// what the server binds tokens to (cnf.jkt). The private key stays a CryptoKey that cannot be
// exported: script that runs later on the page can use it while the page lives, but never copy it.

const encoder = new TextEncoder();

// The WebCrypto types as the platform declares them (the DOM library in a browser build, @types/node
// in Node): taken from the global `crypto`, so this file needs neither library by name.
type SubtleCrypto = typeof globalThis.crypto.subtle;
/** A WebCrypto CryptoKey. */
export type WebCryptoKey = Parameters<SubtleCrypto['sign']>[1];
/** A WebCrypto key pair, as crypto.subtle.generateKey returns it. */
export interface DpopKeyPair {
  privateKey: WebCryptoKey;
  publicKey: WebCryptoKey;
}

/** base64url without padding (RFC 7515 §2); btoa exists in browsers and Node ≥ 16. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64urlJson(value: unknown): string {
  return base64url(encoder.encode(JSON.stringify(value)));
}

/** The public EC key as the proof header's `jwk`: only the members that define it. */
export interface PublicEcJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

const keyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const signatureAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A new ES256 key pair whose private key cannot be exported (extractable: false). */
export async function generateDpopKeyPair(): Promise<DpopKeyPair> {
  const { privateKey, publicKey } = (await globalThis.crypto.subtle.generateKey(keyAlgorithm, false, ['sign', 'verify'])) as DpopKeyPair;
  return { privateKey, publicKey };
}

/** True for a key pair this file can sign proofs with: ECDSA on P-256, private key usable for signing. */
export function isEs256KeyPair(keyPair: DpopKeyPair): boolean {
  const isP256 = (key: WebCryptoKey) => key.algorithm.name === 'ECDSA' && (key.algorithm as { namedCurve?: string }).namedCurve === 'P-256';
  return isP256(keyPair.privateKey) && isP256(keyPair.publicKey) && keyPair.privateKey.type === 'private' && keyPair.privateKey.usages.includes('sign');
}

/** WebCrypto always lets the public half of a pair be exported, whatever the private half allows. */
export async function exportPublicJwk(publicKey: WebCryptoKey): Promise<PublicEcJwk> {
  const jwk = await globalThis.crypto.subtle.exportKey('jwk', publicKey);
  // Dropping key_ops / ext keeps the header to the key itself, as servers expect.
  return { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! };
}

/** base64url(SHA-256(text)): `ath` of an access token (RFC 9449 §4.2), and the thumbprint's hash. */
export async function sha256Base64url(text: string): Promise<string> {
  return base64url(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', encoder.encode(text))));
}

/** The RFC 7638 thumbprint: the required members in lexicographic order, no whitespace, hashed. */
export function jwkThumbprint(jwk: PublicEcJwk): Promise<string> {
  return sha256Base64url(`{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`);
}

/** The proof's htu: the request URL without query and fragment (RFC 9449 §4.2). */
export function htuOf(url: string): string {
  const parsed = new URL(url);
  parsed.search = '';
  parsed.hash = '';
  return parsed.href;
}

export interface DpopProofRequest {
  /** The HTTP method, e.g. "POST". */
  method: string;
  /** The absolute URL the request goes to (query and fragment are left out of the proof). */
  url: string;
  /** With an access token: the proof names it (`ath`), so it cannot accompany another token. */
  accessToken?: string | undefined;
  /** The server's latest DPoP-Nonce for this origin, when it gave one. */
  nonce?: string | undefined;
  /** Seconds since the epoch, by the client's clock. */
  issuedAtSeconds: number;
}

/** Signs one proof for one request: a fresh random jti each time, so a proof is never reused. */
export async function signDpopProof(keyPair: DpopKeyPair, publicJwk: PublicEcJwk, request: DpopProofRequest): Promise<string> {
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk };
  const payload: Record<string, string | number> = {
    // 128 random bits: unguessable and, for all practical purposes, never repeated.
    jti: base64url(globalThis.crypto.getRandomValues(new Uint8Array(16))),
    htm: request.method.toUpperCase(),
    htu: htuOf(request.url),
    iat: request.issuedAtSeconds,
  };
  if (request.accessToken !== undefined) payload['ath'] = await sha256Base64url(request.accessToken);
  if (request.nonce !== undefined) payload['nonce'] = request.nonce;
  const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`;
  const signature = await globalThis.crypto.subtle.sign(signatureAlgorithm, keyPair.privateKey, encoder.encode(signingInput));
  return `${signingInput}.${base64url(new Uint8Array(signature))}`;
}
