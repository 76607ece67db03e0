// Minting the tokens a flow hands out. The mfa_token proves only the password step; the access
// token is minted from the session row, so a refresh can never change auth_time, acr or amr.
import { generateId, generateRandomBase64url } from '../../core/crypto/random.js';
import { sha256Base64url } from '../../core/crypto/digest.js';
import { storedAcr } from '../../core/tokens/authentication-methods.js';
import { mfaAudience, type AccessTokenClaims } from '../../core/tokens/claims.js';
import { signToken } from '../../core/tokens/sign.js';
import type { Executor, SessionRow } from '../../store/database.js';
import { insertRefreshToken } from '../../store/repositories/refresh-tokens.js';
import type { FlowContext } from '../shared/context.js';

export const refreshTokenPrefix = 'tfr_';
export const refreshTokenShape = /^tfr_[A-Za-z0-9_-]{43}$/;

/** "DPoP" for an access token bound to a key (cnf.jkt, RFC 9449 §5), else "Bearer". */
export type TokenType = 'Bearer' | 'DPoP';

export interface TokenResponse {
  access_token: string;
  token_type: TokenType;
  expires_in: number;
  refresh_token: string;
}

export async function mintMfaToken(ctx: FlowContext, input: { userId: string; sessionId: string; jti: string; issuedAtMs: number }): Promise<string> {
  const iat = Math.floor(input.issuedAtMs / 1000);
  return signToken(await ctx.keys.currentKey(), 'mfa', {
    iss: ctx.config.issuer,
    sub: input.userId,
    aud: mfaAudience(ctx.config.issuer),
    iat,
    exp: iat + ctx.config.tokens.mfaTokenTtlSeconds,
    jti: input.jti,
    sid: input.sessionId,
    acr: 'aal1',
    amr: ['pwd'],
  });
}

export async function mintAccessToken(
  ctx: FlowContext,
  session: Pick<SessionRow, 'id' | 'user_id' | 'auth_time' | 'amr' | 'acr' | 'client_id'>,
  issuedAtMs: number = ctx.now(),
  /** DPoP: the thumbprint of the key the token is bound to (cnf.jkt); undefined for a bearer token. */
  dpopJkt?: string,
): Promise<string> {
  const iat = Math.floor(issuedAtMs / 1000);
  const claims: AccessTokenClaims = {
    iss: ctx.config.issuer,
    sub: session.user_id,
    aud: ctx.config.audience,
    client_id: session.client_id,
    iat,
    exp: iat + ctx.config.tokens.accessTokenTtlSeconds,
    jti: generateId('jti'),
    sid: session.id,
    auth_time: Math.floor((session.auth_time ?? 0) / 1000),
    acr: storedAcr(session.acr),
    amr: JSON.parse(session.amr) as string[],
    ...(dpopJkt === undefined ? {} : { cnf: { jkt: dpopJkt } }),
  };
  return signToken(await ctx.keys.currentKey(), 'access', claims);
}

/** When an access token minted at `issuedAtMs` expires, in seconds since the epoch (its `exp`). */
export function accessTokenExpiresAtSeconds(ctx: FlowContext, issuedAtMs: number): number {
  return Math.floor(issuedAtMs / 1000) + ctx.config.tokens.accessTokenTtlSeconds;
}

/** A new opaque refresh token: 256 bits from the CSPRNG. Only its SHA-256 is ever stored. */
export function generateRefreshToken(): string {
  return `${refreshTokenPrefix}${generateRandomBase64url(32)}`;
}

/** Stores a new refresh token of the session's family and returns the plain value (shown once). */
export async function issueRefreshToken(
  db: Executor,
  input: { sessionId: string; parentId: string | null; now: number; expiresAt: number },
): Promise<string> {
  const token = generateRefreshToken();
  await storeRefreshToken(db, token, input);
  return token;
}

/** Stores `token` (from generateRefreshToken) as a new member of the session's family. */
export async function storeRefreshToken(db: Executor, token: string, input: { sessionId: string; parentId: string | null; now: number; expiresAt: number }): Promise<void> {
  await insertRefreshToken(db, {
    id: generateId('rt'),
    session_id: input.sessionId,
    token_hash: sha256Base64url(token),
    parent_id: input.parentId,
    created_at: input.now,
    expires_at: input.expiresAt,
    used_at: null,
    revoked_at: null,
  });
}

export function tokenTypeFor(dpopJkt: string | undefined): TokenType {
  return dpopJkt === undefined ? 'Bearer' : 'DPoP';
}

export function tokenResponse(ctx: FlowContext, accessToken: string, refreshToken: string, dpopJkt?: string): TokenResponse {
  return { access_token: accessToken, token_type: tokenTypeFor(dpopJkt), expires_in: ctx.config.tokens.accessTokenTtlSeconds, refresh_token: refreshToken };
}
