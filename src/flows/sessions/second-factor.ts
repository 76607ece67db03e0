// Pieces shared by every way of proving the second factor: spending an attempt before the proof
// is evaluated, recording a wrong proof against the token and the account, and completing —
// in one transaction with the claim of whatever was proven (a TOTP step, a sent code, a WebAuthn
// challenge, a recovery code), so each proof works once — either a pending login (tokens) or a
// step-up of an active session (a new auth_time).
import type { Transaction } from 'kysely';
import { acrFor, amrFor, isAal2Method, type Acr, type AuthMethod, type ProofContext } from '../../core/tokens/authentication-methods.js';
import { TwofoldError, invalidTokenError } from '../../errors.js';
import type { Database } from '../../store/database.js';
import { activateSession, cancelPendingSession, recordStepUp, revokeSessions, sessionsBeyondCapQuery, spendMfaAttempt, spendStepUpAttempt, type EndedSession } from '../../store/repositories/sessions.js';
import { defaultBatchRows, yieldToEventLoop } from '../shared/batches.js';
import { incrementFailedAttempts, recordSignIn, resetFailedAttempts } from '../../store/repositories/users.js';
import type { AccessAuthentication, PendingAuthentication } from './authenticate.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import type { HeldPendingLogin, PendingLogin } from './credentials-changed.js';
import { announceRevokedSessions, mayHaveLiveAccessToken, revokeSessionsInDatabase } from './revoke-sessions.js';
import type { Guess } from '../budgets/throttle.js';
import { issueRefreshToken, mintAccessToken, tokenResponse, tokenTypeFor, type TokenResponse, type TokenType } from './tokens.js';

export type SecondFactorAuthentication = PendingAuthentication | AccessAuthentication;

/** What a verified proof gives the completing transaction: how it was proven and how to claim it. */
export interface Proof {
  method: AuthMethod;
  /** Claims what was proven; false when a concurrent request claimed it first (a replay). */
  claim(trx: Transaction<Database>): Promise<boolean>;
}

export type FailureReason = 'wrong_code' | 'replay' | 'malformed';

/** The kind of proof offered, known before it is checked (whether a passkey is a proven hardware key is not). */
export type ProofKind = 'totp' | 'sms' | 'email' | 'webauthn' | 'recovery_code' | 'trusted_device';

/** One attempt of the mfa_token (pending) or of the session's step-ups (access), spent up front. */
export async function spendAttempt(ctx: FlowContext, auth: SecondFactorAuthentication): Promise<number> {
  const maxAttempts = ctx.config.mfa.maxAttemptsPerToken;
  if (auth.kind === 'mfa') {
    const attempt = await spendMfaAttempt(ctx.db, { sessionId: auth.session.id, jti: auth.claims.jti, maxAttempts, now: ctx.now() });
    if (attempt === undefined) throw invalidTokenError('This mfa_token was already used, expired, or has no attempts left; log in again.');
    return attempt;
  }
  const attempt = await spendStepUpAttempt(ctx.db, { sessionId: auth.session.id, maxAttempts });
  if (attempt === undefined) throw invalidTokenError('The session of this token has ended.');
  return attempt;
}

/** What a second-factor attempt spent before its proof was evaluated: the token's attempt and the account's guess. */
export interface SpentAttempt {
  attempt: number | undefined;
  guess: Guess;
}

export async function rejectWrongCode(
  ctx: FlowContext,
  auth: { kind?: 'mfa' | 'access'; user: { id: string; username: string }; session: { id: string } },
  spent: SpentAttempt,
  meta: RequestMeta,
  reason: FailureReason,
  kind: ProofKind,
): Promise<never> {
  const { attempt } = spent;
  await incrementFailedAttempts(ctx.db, auth.user.id);
  await spent.guess.wrong({ userId: auth.user.id });
  const base = { userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent };
  ctx.events.record({ type: reason === 'replay' ? 'mfa.replay_rejected' : 'mfa.failed', ...base, details: { reason, method: kind } });
  if (attempt === undefined) throw new TwofoldError('invalid_code', 'The code is wrong or was already used.');
  const remaining = Math.max(0, ctx.config.mfa.maxAttemptsPerToken - attempt);
  if (remaining === 0) {
    ctx.events.record({ type: 'mfa.attempts_exhausted', ...base });
    if (auth.kind === 'access') {
      // Someone holding this access token keeps failing to prove a factor: end the session.
      await announceRevokedSessions(ctx, await revokeSessionsInDatabase(ctx.db, [auth.session.id], 'step_up_attempts_exhausted', ctx.now()));
    } else {
      await cancelPendingSession(ctx.db, auth.session.id, 'too_many_attempts', ctx.now());
    }
  }
  const detail = remaining === 0 ? 'The code is wrong; no attempts are left, sign in again.' : 'The code is wrong or was already used.';
  throw new TwofoldError('invalid_code', detail, { extensions: { attempts_remaining: remaining } });
}

export interface CompletedLogin {
  refreshToken: string;
  amr: string[];
  acr: Acr;
  authTime: number;
  /** The user's oldest signed-in sessions this sign-in ended to stay within TWOFOLD_SESSIONS_PER_USER. */
  endedOverCap: EndedSession[];
  /** DPoP: the key the session is bound to (the sign-in's proof), undefined when unbound. */
  dpopJkt: string | undefined;
}

/**
 * Inside the transaction of a sign-in (the user's row held, so two sign-ins of one user take
 * turns): ends the user's oldest live signed-in sessions beyond the newest TWOFOLD_SESSIONS_PER_USER
 * (counting the new one), so no user — nor anyone who has their password and a factor — can keep
 * thousands of sessions that every per-user operation then pays for.
 */
async function endSessionsOverCap(ctx: FlowContext, trx: Transaction<Database>, input: { userId: string; newSessionId: string; now: number }): Promise<EndedSession[]> {
  const ended: EndedSession[] = [];
  const live = { now: input.now, idleMs: ctx.config.sessions.idleTimeoutSeconds * 1000 };
  for (;;) {
    const beyond = await sessionsBeyondCapQuery(trx, input.userId, live, { keep: ctx.config.sessions.maxPerUser - 1, exceptId: input.newSessionId, limit: defaultBatchRows }).execute();
    ended.push(...(await revokeSessions(trx, beyond.map((session) => session.id), 'session_limit', input.now)));
    if (beyond.length < defaultBatchRows) return ended;
    await yieldToEventLoop();
  }
}

/**
 * Inside the caller's transaction, which began with holdPendingLogin (the credentials have not
 * changed since the password step, and cannot until commit): upgrades the pending session
 * (compare-and-set on its jti and state) and stores its first refresh token. Throws invalid_token
 * — rolling back the caller's claim too — when another request completed this login first, or a
 * change ended it.
 */
export async function completePendingSession(
  ctx: FlowContext,
  trx: Transaction<Database>,
  auth: HeldPendingLogin,
  method: AuthMethod,
  options: { proof?: ProofContext; meta?: RequestMeta } = {},
): Promise<CompletedLogin> {
  const { proof } = options;
  // A sign-in that came with a valid DPoP proof binds its session to that key, for good.
  const dpopJkt = options.meta?.dpopJkt;
  const now = ctx.now();
  const amr = amrFor(method, proof);
  const acr = acrFor(method, proof);
  const expiresAt = now + ctx.config.sessions.absoluteTimeoutSeconds * 1000;
  const activated = await activateSession(trx, { sessionId: auth.session.id, jti: auth.claims.jti, amr, acr, authTime: now, expiresAt, dpopJkt });
  if (!activated) throw invalidTokenError('This mfa_token was already used.');
  const refreshToken = await issueRefreshToken(trx, { sessionId: auth.session.id, parentId: null, now, expiresAt });
  await recordSignIn(trx, auth.user.id, now);
  const endedOverCap = await endSessionsOverCap(ctx, trx, { userId: auth.user.id, newSessionId: auth.session.id, now });
  return { refreshToken, amr, acr, authTime: now, endedOverCap, dpopJkt };
}

/** After the transaction committed: the access token and the event. */
export async function respondWithTokens(ctx: FlowContext, auth: PendingLogin, completed: CompletedLogin, meta: RequestMeta, guess: Guess): Promise<TokenResponse> {
  const accessToken = await mintAccessToken(ctx, {
    id: auth.session.id,
    user_id: auth.user.id,
    auth_time: completed.authTime,
    amr: JSON.stringify(completed.amr),
    acr: completed.acr,
    client_id: auth.session.client_id,
  }, ctx.now(), completed.dpopJkt);
  await guess.completed();
  if (completed.endedOverCap.length > 0) {
    await announceRevokedSessions(ctx, completed.endedOverCap.filter((session) => mayHaveLiveAccessToken(ctx, session, ctx.now())).map((session) => session.id));
    for (const ended of completed.endedOverCap) {
      ctx.events.record({ type: 'session.revoked', userId: auth.user.id, sessionId: ended.id, ip: meta.ip, userAgent: meta.userAgent, details: { reason: 'session_limit', by_session: auth.session.id, limit: ctx.config.sessions.maxPerUser } });
    }
  }
  ctx.events.record({ type: 'login.completed', userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent, details: { amr: completed.amr.join(' ') } });
  return tokenResponse(ctx, accessToken, completed.refreshToken, completed.dpopJkt);
}

export interface StepUpResponse {
  access_token: string;
  token_type: TokenType;
  expires_in: number;
}

/** A fresh factor on an active session (RFC 9470 step-up): the session's auth_time moves. */
export async function completeStepUp(ctx: FlowContext, trx: Transaction<Database>, auth: AccessAuthentication, method: AuthMethod): Promise<{ amr: string[]; authTime: number }> {
  const now = ctx.now();
  const amr = amrFor(method);
  if (!(await recordStepUp(trx, { sessionId: auth.session.id, amr, acr: acrFor(method), authTime: now }))) {
    throw invalidTokenError('The session of this token has ended.');
  }
  await resetFailedAttempts(trx, auth.user.id);
  return { amr, authTime: now };
}

export async function respondWithStepUp(ctx: FlowContext, auth: AccessAuthentication, completed: { amr: string[]; authTime: number }, meta: RequestMeta, guess: Guess): Promise<StepUpResponse> {
  // Bound like every token of the request: to the proof's key, which for a DPoP-bound access token
  // the authentication already matched to its cnf.jkt (src/http/dpop/).
  const accessToken = await mintAccessToken(ctx, { ...auth.session, auth_time: completed.authTime, amr: JSON.stringify(completed.amr), acr: 'aal2' }, ctx.now(), meta.dpopJkt);
  await guess.completed();
  ctx.events.record({ type: 'step_up.completed', userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent, details: { amr: completed.amr.join(' ') } });
  return { access_token: accessToken, token_type: tokenTypeFor(meta.dpopJkt), expires_in: ctx.config.tokens.accessTokenTtlSeconds };
}

/** Step-up needs an AAL2 factor: an e-mail code cannot raise a session's assurance (OB-05). */
export function requireStepUpMethod(method: AuthMethod): void {
  if (!isAal2Method(method)) throw new TwofoldError('forbidden', 'An e-mail code cannot be used to step up; use another factor.');
}
