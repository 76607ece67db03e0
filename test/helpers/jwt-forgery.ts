// Token surgery for attacker-style tests (JW-01..JW-15): raw segments, hand-made HS*
// signatures, and signing arbitrary claims with a test server's own key, so a test can forge
// exactly the token it means — shared by the server's attack suite and twofold/verify's.
import { createHmac } from 'node:crypto';
import { SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { TestTwofold } from './twofold.js';

export type Header = Record<string, unknown>;

export const b64u = (input: string | Uint8Array): string => Buffer.from(input).toString('base64url');
export const b64uJson = (value: unknown): string => b64u(JSON.stringify(value));

export function partsOf(token: string): { header: Header; payload: JWTPayload; h: string; p: string; s: string } {
  const [h = '', p = '', s = ''] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')), payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')), h, p, s };
}

/** A JWS compact token from raw segments; the signature is whatever the caller says. */
export function assemble(header: unknown, payload: unknown, signature: string): string {
  return `${b64uJson(header)}.${b64uJson(payload)}.${signature}`;
}

/** HS* tokens signed by hand, so any byte string can be the "secret". */
export function hmacToken(alg: 'HS256' | 'HS384' | 'HS512', header: Header, payload: unknown, secret: string | Uint8Array): string {
  const input = `${b64uJson({ ...header, alg })}.${b64uJson(payload)}`;
  const signature = createHmac(`sha${alg.slice(2)}`, secret).update(input).digest('base64url');
  return `${input}.${signature}`;
}

export interface RealKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function realKeyOf(t: TestTwofold): Promise<RealKey> {
  const key = await t.ctx.keys.currentKey();
  if (key.privateKey === undefined) throw new Error('the test server has no private key');
  return { kid: key.kid, alg: key.alg, privateKey: key.privateKey, publicJwk: key.publicJwk };
}

/** Signs any claims with the server's own key; the header is exactly what the caller gives (plus alg). */
export async function signWithRealKey(key: RealKey, header: Header, payload: JWTPayload, options: { crit?: Record<string, boolean> } = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ ...header, alg: key.alg } as never).sign(key.privateKey, options.crit === undefined ? undefined : { crit: options.crit });
}

/** Curve order of P-256 (FIPS 186-4 D.1.2.3). */
export const p256Order = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
export const to32Bytes = (value: bigint): Buffer => Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
