// Verifying Twofold's own JWTs (RFC 8725): the algorithm is pinned to the key the kid names,
// `typ`, `iss` and `aud` are pinned per token kind, `exp` is required with at most 60 s of skew,
// and header keys (`jwk`, `jku`, `x5u`, `x5c`) are never used — the key comes only from our ring.
// Returns a result instead of throwing: the caller decides which error a client sees.
//
// The signature is checked synchronously with node:crypto (fast-jwt, one verifier per key and
// token kind), not through WebCrypto: WebCrypto runs on the libuv threadpool, where argon2 hashes
// — under login load every authenticated request would queue behind password hashing
// (measured by the verify-under-login benchmark).
import { isAtLeastAal2 } from './authentication-methods.js';
import { TokenError } from 'fast-jwt';
import type { JWTPayload } from 'jose';
import type { AccessTokenClaims, MfaTokenClaims, TokenKind } from './claims.js';
import { mfaAudience, tokenTypeHeader } from './claims.js';
import { publicPartOf, type SigningKey } from './signing-key.js';
import { createSignatureCheck, type SignatureCheck } from './signature-check.js';
import { decodeJwsHeader, hasCompactJwsShape, isCanonicalCompactJws } from './token-shape.js';

export interface TokenVerificationOptions {
  issuer: string;
  /** The access-token audience; the mfa_token audience is derived from the issuer. */
  audience: string;
  nowSeconds: number;
  clockSkewSeconds: number;
  findKey(kid: string): Promise<SigningKey | undefined> | SigningKey | undefined;
}

export type TokenVerification<Claims> = { ok: true; claims: Claims } | { ok: false; reason: string };

export { maxTokenLength } from './token-shape.js';

export function verifyAccessToken(token: string, options: TokenVerificationOptions): Promise<TokenVerification<AccessTokenClaims>> {
  return verifyToken(token, 'access', options, isAccessTokenClaims);
}

export function verifyMfaToken(token: string, options: TokenVerificationOptions): Promise<TokenVerification<MfaTokenClaims>> {
  return verifyToken(token, 'mfa', options, isMfaTokenClaims);
}

/** Checks per key object and per (kind, issuer, audience); a retired key's entry goes with it. */
const signatureChecks = new WeakMap<SigningKey, Map<string, SignatureCheck>>();

function signatureCheckFor(key: SigningKey, kind: TokenKind, issuer: string, audience: string): SignatureCheck {
  let perKey = signatureChecks.get(key);
  if (perKey === undefined) {
    perKey = new Map();
    signatureChecks.set(key, perKey);
  }
  const id = `${kind} ${issuer} ${audience}`;
  let check = perKey.get(id);
  if (check === undefined) {
    check = createSignatureCheck({ publicJwk: publicPartOf(key.publicJwk), algorithm: key.alg, typ: tokenTypeHeader[kind], issuer, audience });
    perKey.set(id, check);
  }
  return check;
}

async function verifyToken<Claims>(
  token: string,
  kind: TokenKind,
  options: TokenVerificationOptions,
  hasClaimShape: (payload: JWTPayload) => boolean,
): Promise<TokenVerification<Claims>> {
  if (!hasCompactJwsShape(token)) return { ok: false, reason: 'not a compact JWS' };
  if (!isCanonicalCompactJws(token)) return { ok: false, reason: 'non-canonical base64url' };
  const header = decodeJwsHeader(token);
  if (header === undefined) return { ok: false, reason: 'malformed header' };
  const key = typeof header['kid'] === 'string' ? await options.findKey(header['kid']) : undefined;
  if (key === undefined || key.alg !== header['alg']) return { ok: false, reason: 'no matching key' };
  // fast-jwt compares typ case-insensitively and without "application/"; ours is exact.
  if (header['typ'] !== tokenTypeHeader[kind]) return { ok: false, reason: 'unexpected typ' };
  let payload: JWTPayload;
  try {
    payload = signatureCheckFor(key, kind, options.issuer, kind === 'access' ? options.audience : mfaAudience(options.issuer))(token) as JWTPayload;
  } catch (error) {
    if (error instanceof TokenError) return { ok: false, reason: error.code };
    throw error;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return { ok: false, reason: 'unexpected claims' };
  if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number') return { ok: false, reason: 'unexpected claims' };
  if (payload.exp <= options.nowSeconds - options.clockSkewSeconds) return { ok: false, reason: 'expired' };
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > options.nowSeconds + options.clockSkewSeconds)) return { ok: false, reason: 'not yet valid' };
  if (payload.iat > options.nowSeconds + options.clockSkewSeconds) return { ok: false, reason: 'iat in the future' };
  if (!hasClaimShape(payload)) return { ok: false, reason: 'unexpected claims' };
  return { ok: true, claims: payload as Claims };
}

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);

function hasCommonClaims(payload: JWTPayload): boolean {
  return isString(payload.sub) && isString(payload['sid']) && isString(payload.jti) && typeof payload.iat === 'number';
}

function isAccessTokenClaims(payload: JWTPayload): boolean {
  return (
    hasCommonClaims(payload) &&
    typeof payload['acr'] === 'string' &&
    (payload['acr'] === 'aal1' || isAtLeastAal2(payload['acr'])) &&
    isStringArray(payload['amr']) &&
    typeof payload['auth_time'] === 'number' &&
    isString(payload['client_id'])
  );
}

function isMfaTokenClaims(payload: JWTPayload): boolean {
  const amr = payload['amr'];
  return hasCommonClaims(payload) && payload['acr'] === 'aal1' && isStringArray(amr) && amr.length === 1 && amr[0] === 'pwd';
}
