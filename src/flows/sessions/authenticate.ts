// Turning a bearer token into an identity. Two kinds, two functions, no overlap: an mfa_token
// authenticates only a pending session, an access token only an active one (FL-01/FL-02).
// A signature is not enough: the session row must still agree (single use, revocation, idle
// and absolute limits), so a logout is honoured by the very next request.
import { invalidTokenError } from '../../errors.js';
import type { AccessTokenClaims, MfaTokenClaims } from '../../core/tokens/claims.js';
import { verifyAccessToken, verifyMfaToken, type TokenVerificationOptions } from '../../core/tokens/verify.js';
import type { SessionRow, UserRow } from '../../store/database.js';
import { cancelPendingSession, findSession, findSessionWithUser, touchSession } from '../../store/repositories/sessions.js';
import { findUserById } from '../../store/repositories/users.js';
import type { FlowContext } from '../shared/context.js';
import { credentialsChangedDetail, credentialsUnchangedSinceLogin } from './credentials-changed.js';
import { announceRevokedSessions, revokeSessionsInDatabase } from './revoke-sessions.js';

export interface PendingAuthentication {
  kind: 'mfa';
  claims: MfaTokenClaims;
  session: SessionRow;
  user: UserRow;
}

export interface AccessAuthentication {
  kind: 'access';
  claims: AccessTokenClaims;
  session: SessionRow;
  user: UserRow;
}

/** Session activity is written at most this often, so reads stay reads. */
const activityWriteIntervalMs = 60_000;

function verificationOptions(ctx: FlowContext): TokenVerificationOptions {
  return {
    issuer: ctx.config.issuer,
    audience: ctx.config.audience,
    nowSeconds: Math.floor(ctx.now() / 1000),
    clockSkewSeconds: ctx.config.tokens.clockSkewSeconds,
    findKey: (kid) => ctx.keys.findKey(kid),
  };
}

export async function authenticateMfaToken(ctx: FlowContext, token: string): Promise<PendingAuthentication> {
  const result = await verifyMfaToken(token, verificationOptions(ctx));
  if (!result.ok) throw invalidTokenError('The mfa_token is invalid or expired.');
  const { claims } = result;
  const session = await findSession(ctx.db, claims.sid);
  if (session === undefined || session.user_id !== claims.sub || session.state !== 'pending' || session.mfa_jti !== claims.jti) {
    throw invalidTokenError('The mfa_token was already used or its login was cancelled.');
  }
  if (session.expires_at <= ctx.now()) throw invalidTokenError('The mfa_token has expired; log in again.');
  if (session.mfa_attempts >= ctx.config.mfa.maxAttemptsPerToken) {
    throw invalidTokenError('Too many wrong codes for this login; log in again.');
  }
  const user = await findUserById(ctx.db, claims.sub);
  if (user === undefined || user.disabled_at !== null) throw invalidTokenError('The account is not available.');
  if (!credentialsUnchangedSinceLogin(session, user)) {
    // The change ended the logins it found; this one's password step was still running then.
    await cancelPendingSession(ctx.db, session.id, 'credentials_changed', ctx.now());
    throw invalidTokenError(credentialsChangedDetail);
  }
  return { kind: 'mfa', claims, session, user };
}

/**
 * Checks how the caller presented a verified access token (its DPoP proof), before the session is
 * read or touched: a token copied without its key must not even keep its session from idling out.
 */
export type PresentationCheck = (claims: AccessTokenClaims) => Promise<void>;

export async function authenticateAccessToken(ctx: FlowContext, token: string, checkPresentation?: PresentationCheck): Promise<AccessAuthentication> {
  const now = ctx.now();
  const nowSeconds = Math.floor(now / 1000);
  const skew = ctx.config.tokens.clockSkewSeconds;
  let claims = ctx.accessTokenCache.get(token, nowSeconds, skew);
  if (claims === undefined) {
    const result = await verifyAccessToken(token, verificationOptions(ctx));
    if (!result.ok) throw invalidTokenError('The access token is invalid or expired.');
    claims = result.claims;
    ctx.accessTokenCache.set(token, claims);
  }
  // After the cache on purpose: it holds the signature check only, never a proof (DP-15).
  await checkPresentation?.(claims);
  // Known revoked (here or, through pub/sub, on another instance): refused without a query.
  if (ctx.revokedSessions.has(claims.sid, now)) throw invalidTokenError('The session of this token has ended.');
  const found = await findSessionWithUser(ctx.db, claims.sid);
  if (found === undefined || found.session.user_id !== claims.sub || found.session.state !== 'active') {
    throw invalidTokenError('The session of this token has ended.');
  }
  const { session, user } = found;
  await enforceSessionLimits(ctx, session, now);
  if (user.disabled_at !== null) throw invalidTokenError('The account is not available.');
  if (now - session.last_active_at > activityWriteIntervalMs) await touchSession(ctx.db, session.id, now);
  return { kind: 'access', claims, session, user };
}

/** Idle (30 min) and absolute (12 h) limits; an expired session is revoked on sight. */
export async function enforceSessionLimits(ctx: FlowContext, session: SessionRow, now: number): Promise<void> {
  const idleDeadline = session.last_active_at + ctx.config.sessions.idleTimeoutSeconds * 1000;
  if (now >= session.expires_at) {
    await announceRevokedSessions(ctx, await revokeSessionsInDatabase(ctx.db, [session.id], 'absolute_timeout', now));
    throw invalidTokenError('The session reached its maximum age; log in again.');
  }
  if (now >= idleDeadline) {
    await announceRevokedSessions(ctx, await revokeSessionsInDatabase(ctx.db, [session.id], 'idle_timeout', now));
    throw invalidTokenError('The session was idle too long; log in again.');
  }
}

/** True when the session's second factor is recent enough for a sensitive change (step-up). */
export function isRecentAuthentication(ctx: FlowContext, session: SessionRow): boolean {
  return session.auth_time !== null && ctx.now() - session.auth_time <= ctx.config.sessions.stepUpMaxAgeSeconds * 1000;
}
