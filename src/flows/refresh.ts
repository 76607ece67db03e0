// POST /v1/token/refresh: rotation with reuse detection (RFC 9700 §4.14, SECURITY.md SS-02).
// Each refresh token works once; presenting one that was already used means it was copied, so
// the whole family (the session) is revoked and both the thief and the owner must log in again.
// The new access token is minted from the session row: auth_time, acr and amr never change.
import { sha256Base64url } from '../core/crypto/digest.js';
import { invalidTokenError } from '../errors.js';
import { findRefreshTokenByHash, markRefreshTokenUsed } from '../store/repositories/refresh-tokens.js';
import { findSession, touchSession } from '../store/repositories/sessions.js';
import { findUserById } from '../store/repositories/users.js';
import { enforceSessionLimits } from './authenticate.js';
import type { FlowContext, RequestMeta } from './context.js';
import { announceRevokedSessions, revokeSessionsInDatabase } from './revoke-sessions.js';
import { issueRefreshToken, mintAccessToken, refreshTokenShape, tokenResponse, type TokenResponse } from './tokens.js';
import { runTransaction } from '../store/transaction.js';

const invalidRefreshToken = () => invalidTokenError('The refresh token is invalid, expired or revoked.');

export async function refreshTokens(ctx: FlowContext, refreshToken: string, meta: RequestMeta = {}): Promise<TokenResponse> {
  if (!refreshTokenShape.test(refreshToken)) throw invalidRefreshToken();
  const now = ctx.now();
  const stored = await findRefreshTokenByHash(ctx.db, sha256Base64url(refreshToken));
  if (stored === undefined) throw invalidRefreshToken();
  const session = await findSession(ctx.db, stored.session_id);
  if (session === undefined || session.state !== 'active') throw invalidRefreshToken();
  if (stored.revoked_at !== null || stored.expires_at <= now) throw invalidRefreshToken();
  await enforceSessionLimits(ctx, session, now);
  const user = await findUserById(ctx.db, session.user_id);
  if (user === undefined || user.disabled_at !== null) throw invalidRefreshToken();

  const rotated = await runTransaction(ctx.db, async (trx) => {
    if (!(await markRefreshTokenUsed(trx, stored.id, now))) return undefined;
    await touchSession(trx, session.id, now);
    return issueRefreshToken(trx, { sessionId: session.id, parentId: stored.id, now, expiresAt: session.expires_at });
  });
  if (rotated === undefined) {
    await announceRevokedSessions(ctx, await revokeSessionsInDatabase(ctx.db, [session.id], 'refresh_token_reuse', now));
    ctx.events.record({ type: 'token.refresh_reuse_detected', userId: session.user_id, sessionId: session.id, ip: meta.ip, userAgent: meta.userAgent });
    throw invalidRefreshToken();
  }
  ctx.events.record({ type: 'token.refreshed', userId: session.user_id, sessionId: session.id, ip: meta.ip, userAgent: meta.userAgent });
  return tokenResponse(ctx, await mintAccessToken(ctx, session), rotated);
}
