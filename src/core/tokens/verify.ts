// Verifying Twofold's own JWTs (RFC 8725): the algorithm is pinned to the key the kid names,
// `typ`, `iss` and `aud` are pinned per token kind, `exp` is required with at most 60 s of skew,
// and header keys (`jwk`, `jku`, `x5u`, `x5c`) are never used — the key comes only from our ring.
// Returns a result instead of throwing: the caller decides which error a client sees.
import { errors as joseErrors, jwtVerify, type CryptoKey, type JWTHeaderParameters, type JWTPayload } from 'jose';
import type { AccessTokenClaims, MfaTokenClaims, TokenKind } from './claims.js';
import { mfaAudience, tokenTypeHeader } from './claims.js';
import type { SigningKey } from './signing-key.js';
import { hasCompactJwsShape, isCanonicalCompactJws } from './token-shape.js';

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

async function verifyToken<Claims>(
  token: string,
  kind: TokenKind,
  options: TokenVerificationOptions,
  hasClaimShape: (payload: JWTPayload) => boolean,
): Promise<TokenVerification<Claims>> {
  if (!hasCompactJwsShape(token)) return { ok: false, reason: 'not a compact JWS' };
  if (!isCanonicalCompactJws(token)) return { ok: false, reason: 'non-canonical base64url' };
  const resolveKey = async (header: JWTHeaderParameters): Promise<CryptoKey> => {
    const key = typeof header.kid === 'string' ? await options.findKey(header.kid) : undefined;
    if (key === undefined || key.alg !== header.alg) throw new joseErrors.JWKSNoMatchingKey();
    return key.publicKey;
  };
  try {
    const { payload } = await jwtVerify(token, resolveKey, {
      algorithms: ['EdDSA', 'ES256'],
      typ: tokenTypeHeader[kind],
      issuer: options.issuer,
      audience: kind === 'access' ? options.audience : mfaAudience(options.issuer),
      clockTolerance: options.clockSkewSeconds,
      currentDate: new Date(options.nowSeconds * 1000),
      requiredClaims: ['exp', 'iat', 'sub', 'jti', 'sid'],
    });
    if (!hasClaimShape(payload)) return { ok: false, reason: 'unexpected claims' };
    // jose checks iat only against a maxTokenAge; a token "issued" in the future is not ours.
    if ((payload.iat ?? 0) > options.nowSeconds + options.clockSkewSeconds) return { ok: false, reason: 'iat in the future' };
    return { ok: true, claims: payload as Claims };
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return { ok: false, reason: error.code };
    // jose throws TypeError/SyntaxError on some malformed inputs; they are bad tokens, not bugs.
    if (error instanceof TypeError || error instanceof SyntaxError) return { ok: false, reason: 'malformed token' };
    throw error;
  }
}

const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);

function hasCommonClaims(payload: JWTPayload): boolean {
  return isString(payload.sub) && isString(payload['sid']) && isString(payload.jti) && typeof payload.iat === 'number';
}

function isAccessTokenClaims(payload: JWTPayload): boolean {
  return (
    hasCommonClaims(payload) &&
    (payload['acr'] === 'aal2' || payload['acr'] === 'aal1') &&
    isStringArray(payload['amr']) &&
    typeof payload['auth_time'] === 'number' &&
    isString(payload['client_id'])
  );
}

function isMfaTokenClaims(payload: JWTPayload): boolean {
  const amr = payload['amr'];
  return hasCommonClaims(payload) && payload['acr'] === 'aal1' && isStringArray(amr) && amr.length === 1 && amr[0] === 'pwd';
}
