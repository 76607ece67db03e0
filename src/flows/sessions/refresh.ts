// POST /v1/token/refresh: rotation with reuse detection (RFC 9700 §4.14, SS-02).
// Each refresh token works once; presenting one that was already used means it was copied, so
// the whole family (the session) is revoked and both the thief and the owner must log in again —
// except within the reuse grace right after its rotation, when the rotation's own answer is given
// again (refresh-grace.ts has the exact rule).
// The new access token is minted from the session row: auth_time, acr and amr never change.
// DPoP (RFC 9449 §5): a bound session's refresh tokens work only with a proof of its key — checked
// before anything is spent, so a thief without the key neither refreshes nor burns the token; a
// proof on an unbound session's refresh gets an access token bound to the proof's key.
import { sha256Base64url } from '../../core/crypto/digest.js';
import { TwofoldError, invalidTokenError } from '../../errors.js';
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
  requireSessionKey(ctx, session, meta.dpopJkt);
  const who = { userId: session.user_id, sessionId: session.id, ip: meta.ip, userAgent: meta.userAgent };

  if (stored.used_at === null) {
    const rotated = await rotateRefreshToken(ctx, stored, session, now, meta.dpopJkt);
    if (rotated !== undefined) {
      ctx.events.record({ type: 'token.refreshed', ...who });
      return rotated;
    }
  }
  // Spent already — by another request a moment ago, or long ago.
  const again = await answerPresentedAgain(ctx, stored, now, meta.dpopJkt);
  if (again.kind === 'other_key') throw new TwofoldError('invalid_dpop_proof', 'This refresh token was just rotated with a DPoP proof of another key (or without one); retry with the same key.');
  const sinceRotation = { ms_since_rotation: again.msSinceRotation ?? null };
  if (again.kind === 'same_answer') {
    ctx.events.record({ type: 'token.refresh_grace_replay', ...who, details: sinceRotation });
    return again.response;
  }
  await announceRevokedSessions(ctx, await revokeSessionsInDatabase(ctx.db, [session.id], 'refresh_token_reuse', now));
  ctx.events.record({ type: 'token.refresh_reuse_detected', ...who, details: sinceRotation });
  throw invalidRefreshToken();
}

/** A bound session (DPoP on) refreshes only with a proof of its own key; refused before anything is spent. */
function requireSessionKey(ctx: FlowContext, session: SessionRow, dpopJkt: string | undefined): void {
  if (ctx.config.dpop.mode === 'off' || session.dpop_jkt === null) return;
  if (dpopJkt === undefined) throw new TwofoldError('invalid_dpop_proof', 'This session is bound to a DPoP key: send a DPoP proof of that key with the refresh.');
  if (dpopJkt !== session.dpop_jkt) throw new TwofoldError('invalid_dpop_proof', 'The DPoP proof is not made with the key this session is bound to.');
}

/** Spends `stored` and issues its child; undefined when another request spent it first. */
async function rotateRefreshToken(ctx: FlowContext, stored: RefreshTokenRow, session: SessionRow, now: number, dpopJkt: string | undefined): Promise<TokenResponse | undefined> {
  // Minted before the transaction: signing and the key ring stay outside the database's lock (on
  // SQLite the one writer). A request that then loses the compare-and-set discards them unseen.
  const accessToken = await mintAccessToken(ctx, session, now, dpopJkt);
  const child = generateRefreshToken();
  const graceAnswer =
    graceMilliseconds(ctx) > 0
      ? sealGraceAnswer(ctx.secretBox, stored, { accessToken, refreshToken: child, accessExpiresAtSeconds: accessTokenExpiresAtSeconds(ctx, now), ...(dpopJkt === undefined ? {} : { dpopJkt }) })
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
  return won ? tokenResponse(ctx, accessToken, child, dpopJkt) : undefined;
}
