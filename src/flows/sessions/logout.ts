// POST /v1/logout: the session dies — its refresh family is revoked and, because every access
// token is checked against its session, its access tokens are refused from the next request on.
import { sha256Base64url } from '../../core/crypto/digest.js';
import { findRefreshTokenByHash } from '../../store/repositories/refresh-tokens.js';
import { cancelPendingSession, findSession } from '../../store/repositories/sessions.js';
import type { AccessAuthentication, PendingAuthentication } from './authenticate.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { announceRevokedSessions, revokeSessionsInDatabase } from './revoke-sessions.js';
import { refreshTokenShape } from './tokens.js';
import { runTransaction } from '../../store/transaction.js';

export async function logout(ctx: FlowContext, auth: AccessAuthentication, refreshToken: string | undefined, meta: RequestMeta = {}): Promise<void> {
  const now = ctx.now();
  const sessionIds = new Set([auth.session.id]);
  if (refreshToken !== undefined && refreshTokenShape.test(refreshToken)) {
    // A refresh token of another of the caller's own sessions ends that one too; anyone else's is ignored.
    const stored = await findRefreshTokenByHash(ctx.db, sha256Base64url(refreshToken));
    const other = stored === undefined ? undefined : await findSession(ctx.db, stored.session_id);
    if (other !== undefined && other.user_id === auth.user.id) sessionIds.add(other.id);
  }
  const revoked = await runTransaction(ctx.db, (trx) => revokeSessionsInDatabase(trx, sessionIds, 'logout', now));
  await announceRevokedSessions(ctx, revoked);
  for (const sessionId of revoked) {
    ctx.events.record({ type: 'session.revoked', userId: auth.user.id, sessionId, ip: meta.ip, userAgent: meta.userAgent, details: { reason: 'logout' } });
  }
}

/**
 * Ends the session a refresh token belongs to, for a browser whose access token has expired (the
 * OpenID Provider's logout): as logout, with the refresh token standing in for the access token.
 */
export async function logoutWithRefreshToken(ctx: FlowContext, refreshToken: string, meta: RequestMeta = {}): Promise<void> {
  if (!refreshTokenShape.test(refreshToken)) return;
  const stored = await findRefreshTokenByHash(ctx.db, sha256Base64url(refreshToken));
  const session = stored === undefined ? undefined : await findSession(ctx.db, stored.session_id);
  if (session === undefined || session.state === 'revoked') return;
  const revoked = await runTransaction(ctx.db, (trx) => revokeSessionsInDatabase(trx, [session.id], 'logout', ctx.now()));
  await announceRevokedSessions(ctx, revoked);
  for (const sessionId of revoked) {
    ctx.events.record({ type: 'session.revoked', userId: session.user_id, sessionId, ip: meta.ip, userAgent: meta.userAgent, details: { reason: 'logout' } });
  }
}

/** Ends a sign-in between its password and its second factor: the pending session is revoked, so its mfa_token is refused from now on. */
export async function cancelPendingLogin(ctx: FlowContext, auth: PendingAuthentication, meta: RequestMeta = {}): Promise<void> {
  if (!(await cancelPendingSession(ctx.db, auth.session.id, 'cancelled', ctx.now()))) return;
  ctx.events.record({ type: 'session.revoked', userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent, details: { reason: 'sign_in_cancelled' } });
}
