// POST /v1/token/refresh: rotation with reuse detection (RFC 9700 §4.14, SS-02).
// Each refresh token works once; presenting one that was already used means it was copied, so
// the whole family (the session) is revoked and both the thief and the owner must log in again —
// except within the reuse grace right after its rotation, when the rotation's own answer is given
// again (refresh-grace.ts has the exact rule).
// The new access token is minted from the session row: auth_time, acr and amr never change.
import { sha256Base64url } from '../../core/crypto/digest.js';
import { invalidTokenError } from '../../errors.js';
import type { RefreshTokenRow, SessionRow } from '../../store/database.js';
import { findRefreshTokenByHash, markRefreshTokenUsed } from '../../store/repositories/refresh-tokens.js';
import { findSession, touchSession } from '../../store/repositories/sessions.js';
import { findUserById } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import { enforceSessionLimits } from './authenticate.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { answerPresentedAgain, graceMilliseconds, sealGraceAnswer } from './refresh-grace.js';
import { announceRevokedSessions, revokeSessionsInDatabase } from './revoke-sessions.js';
import { accessTokenExpiresAtSeconds, generateRefreshToken, mintAccessToken, refreshTokenShape, storeRefreshToken, tokenResponse, type TokenResponse } from './tokens.js';

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
  const who = { userId: session.user_id, sessionId: session.id, ip: meta.ip, userAgent: meta.userAgent };

  if (stored.used_at === null) {
    const rotated = await rotateRefreshToken(ctx, stored, session, now);
    if (rotated !== undefined) {
      ctx.events.record({ type: 'token.refreshed', ...who });
      return rotated;
    }
  }
  // Spent already — by another request a moment ago, or long ago.
  const again = await answerPresentedAgain(ctx, stored, now);
  const sinceRotation = { ms_since_rotation: again.msSinceRotation ?? null };
  if (again.kind === 'same_answer') {
    ctx.events.record({ type: 'token.refresh_grace_replay', ...who, details: sinceRotation });
    return again.response;
  }
  await announceRevokedSessions(ctx, await revokeSessionsInDatabase(ctx.db, [session.id], 'refresh_token_reuse', now));
  ctx.events.record({ type: 'token.refresh_reuse_detected', ...who, details: sinceRotation });
  throw invalidRefreshToken();
}

/** Spends `stored` and issues its child; undefined when another request spent it first. */
async function rotateRefreshToken(ctx: FlowContext, stored: RefreshTokenRow, session: SessionRow, now: number): Promise<TokenResponse | undefined> {
  // Minted before the transaction: signing and the key ring stay outside the database's lock (on
  // SQLite the one writer). A request that then loses the compare-and-set discards them unseen.
  const accessToken = await mintAccessToken(ctx, session, now);
  const child = generateRefreshToken();
  const graceAnswer =
    graceMilliseconds(ctx) > 0
      ? sealGraceAnswer(ctx.secretBox, stored, { accessToken, refreshToken: child, accessExpiresAtSeconds: accessTokenExpiresAtSeconds(ctx, now) })
      : null;
  // The parent's answer (which carried `stored`) is left to the sweep: from this commit on a replay
  // of the parent is reuse anyway (answerPresentedAgain checks the child itself), and wiping it here
  // would cost every refresh a second durable write.
  const won = await runTransaction(ctx.db, async (trx) => {
    if (!(await markRefreshTokenUsed(trx, stored.id, now, graceAnswer))) return false;
    await touchSession(trx, session.id, now);
    await storeRefreshToken(trx, child, { sessionId: session.id, parentId: stored.id, now, expiresAt: session.expires_at });
    return true;
  });
  return won ? tokenResponse(ctx, accessToken, child) : undefined;
}
