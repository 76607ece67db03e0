// Makes DPoP proofs (RFC 9449) with real keys for tests: well-formed by default, with any header
// member or claim overridden or removed (undefined), or signed by another key — the attacks' raw
// material. Signing goes through jose; only deliberately broken JWS (alg none) are assembled by hand.
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload, type KeyObject } from 'jose';

export interface DpopTestKey {
  alg: 'ES256' | 'EdDSA' | 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function createDpopTestKey(alg: DpopTestKey['alg'] = 'ES256'): Promise<DpopTestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, { extractable: true });
  return { alg, privateKey, publicJwk: await exportJWK(publicKey) };
}

export interface DpopProofParts {
  key: DpopTestKey;
  htm: string;
  htu: string;
  /** Seconds. */
  iat: number;
  /** Header members to set (undefined removes one). */
  header?: Record<string, unknown>;
  /** Claims to set (undefined removes one). */
  claims?: JWTPayload;
  /** Signs with this instead of the key the jwk names. */
  signWith?: CryptoKey | KeyObject | Uint8Array;
}

export async function makeDpopProof(parts: DpopProofParts): Promise<string> {
  const claims = withoutUndefined({ jti: randomBytes(16).toString('base64url'), htm: parts.htm, htu: parts.htu, iat: parts.iat, ...parts.claims });
  const header = withoutUndefined({ typ: 'dpop+jwt', alg: parts.key.alg, jwk: parts.key.publicJwk, ...parts.header });
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(parts.signWith ?? parts.key.privateKey);
}

/** A compact JWS with the given header and payload and a made-up signature part (e.g. alg none). */
export function unsignedJws(header: unknown, payload: unknown, signature = ''): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}
