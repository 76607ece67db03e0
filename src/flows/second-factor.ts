// Pieces shared by every way of proving the second factor: spending an attempt before the
// code is evaluated, recording a wrong code against the token and the account, and turning a
// pending session into an authenticated one with its first refresh token — atomically with
// the claim of whatever was proven (TOTP step, recovery code), so each proof works once.
import { generateId } from '../core/crypto/random.js';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from '../core/recovery/codes.js';
import { TwofoldError, invalidTokenError } from '../errors.js';
import type { Transaction } from 'kysely';
import type { Database, Executor } from '../store/database.js';
import { replaceRecoveryCodes } from '../store/repositories/recovery-codes.js';
import { activateSession, cancelPendingSession, spendMfaAttempt } from '../store/repositories/sessions.js';
import { incrementFailedAttempts, resetFailedAttempts } from '../store/repositories/users.js';
import type { PendingAuthentication } from './authenticate.js';
import type { FlowContext, RequestMeta } from './context.js';
import { clearAccountThrottle, recordAccountFailure } from './throttle.js';
import { issueRefreshToken, mintAccessToken, tokenResponse, type TokenResponse } from './tokens.js';

/** RFC 8176 method for each way of proving the second factor ("rc": recovery code, not in the registry). */
export const amrForProof = { totp: 'otp', recovery_code: 'rc' } as const;
export type ProofKind = keyof typeof amrForProof;

export async function spendAttempt(ctx: FlowContext, auth: PendingAuthentication): Promise<number> {
  const attempt = await spendMfaAttempt(ctx.db, {
    sessionId: auth.session.id,
    jti: auth.claims.jti,
    maxAttempts: ctx.config.mfa.maxAttemptsPerToken,
    now: ctx.now(),
  });
  if (attempt === undefined) throw invalidTokenError('This mfa_token was already used, expired, or has no attempts left; log in again.');
  return attempt;
}

export async function rejectWrongCode(
  ctx: FlowContext,
  auth: { user: { id: string; username: string }; session: { id: string } },
  attempt: number | undefined,
  meta: RequestMeta,
  reason: 'wrong_code' | 'replay' | 'malformed',
): Promise<never> {
  await incrementFailedAttempts(ctx.db, auth.user.id);
  await recordAccountFailure(ctx, auth.user.username);
  const base = { userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent };
  ctx.events.record({ type: reason === 'replay' ? 'mfa.replay_rejected' : 'mfa.failed', ...base, details: { reason } });
  if (attempt === undefined) throw new TwofoldError('invalid_code', 'The code is wrong or was already used.');
  const remaining = Math.max(0, ctx.config.mfa.maxAttemptsPerToken - attempt);
  if (remaining === 0) {
    await cancelPendingSession(ctx.db, auth.session.id, 'too_many_attempts', ctx.now());
    ctx.events.record({ type: 'mfa.attempts_exhausted', ...base });
  }
  throw new TwofoldError('invalid_code', remaining === 0 ? 'The code is wrong; no attempts are left for this login, log in again.' : 'The code is wrong or was already used.', {
    extensions: { attempts_remaining: remaining },
  });
}

/**
 * Inside the caller's transaction: upgrades the pending session (compare-and-set on its jti) and
 * stores its first refresh token. Throws invalid_token — rolling back the caller's claim too —
 * when another request completed this login first.
 */
export async function completePendingSession(
  ctx: FlowContext,
  trx: Transaction<Database>,
  auth: PendingAuthentication,
  proof: ProofKind,
): Promise<{ refreshToken: string; amr: string[]; authTime: number }> {
  const now = ctx.now();
  const amr = ['pwd', amrForProof[proof], 'mfa'];
  const expiresAt = now + ctx.config.sessions.absoluteTimeoutSeconds * 1000;
  const activated = await activateSession(trx, { sessionId: auth.session.id, jti: auth.claims.jti, amr, authTime: now, expiresAt });
  if (!activated) throw invalidTokenError('This mfa_token was already used.');
  const refreshToken = await issueRefreshToken(trx, { sessionId: auth.session.id, parentId: null, now, expiresAt });
  await resetFailedAttempts(trx, auth.user.id);
  return { refreshToken, amr, authTime: now };
}

/** After the transaction committed: the access token and the event. */
export async function respondWithTokens(
  ctx: FlowContext,
  auth: PendingAuthentication,
  completed: { refreshToken: string; amr: string[]; authTime: number },
  meta: RequestMeta,
): Promise<TokenResponse> {
  const accessToken = await mintAccessToken(ctx, {
    id: auth.session.id,
    user_id: auth.user.id,
    auth_time: completed.authTime,
    amr: JSON.stringify(completed.amr),
    client_id: auth.session.client_id,
  });
  await clearAccountThrottle(ctx, auth.user.username);
  ctx.events.record({ type: 'login.completed', userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent, details: { amr: completed.amr.join(' ') } });
  return tokenResponse(ctx, accessToken, completed.refreshToken);
}

/** New recovery codes replace the old ones; the plain codes are returned once and never stored. */
export async function issueRecoveryCodes(ctx: FlowContext, db: Executor, userId: string): Promise<string[]> {
  const codes = generateRecoveryCodes(ctx.config.mfa.recoveryCodeCount);
  const hashed = codes.map((code) => ({ id: generateId('rc'), codeHash: hashRecoveryCode(normalizeRecoveryCode(code)!, ctx.codePepper) }));
  await replaceRecoveryCodes(db, userId, hashed, ctx.now());
  return codes;
}
