// POST /v1/factors/{id}/verify: the first code from the authenticator app proves the person
// holds the secret, and the factor becomes active. With an mfa_token this also completes the
// first sign-in: tokens plus recovery codes, shown only here. The confirmation code claims its
// TOTP step, so it cannot be used again at /v1/mfa/verify.
import { isTotpCodeShape, verifyTotpCode } from '../core/totp/verify.js';
import { TwofoldError } from '../errors.js';
import type { FactorRow } from '../store/database.js';
import { activateFactor, findFactor } from '../store/repositories/factors.js';
import type { AccessAuthentication, PendingAuthentication } from './authenticate.js';
import type { FlowContext, RequestMeta } from './context.js';
import { requireNoActiveFactor } from './enroll-factor.js';
import { completePendingSession, issueRecoveryCodes, rejectWrongCode, respondWithTokens, spendAttempt } from './second-factor.js';
import type { TokenResponse } from './tokens.js';
import { checkAccountThrottle } from './throttle.js';
import { openTotpSecret } from './totp-factor.js';
import { toFactorView, type FactorView } from './views.js';
import { runTransaction } from '../store/transaction.js';

export type ConfirmFactorResult = { factor: FactorView } | (TokenResponse & { factor: FactorView; recovery_codes: string[] });

export async function confirmFactor(
  ctx: FlowContext,
  auth: PendingAuthentication | AccessAuthentication,
  factorId: string,
  code: string,
  meta: RequestMeta = {},
): Promise<ConfirmFactorResult> {
  const factor = await findFactor(ctx.db, factorId);
  // Someone else's factor is indistinguishable from a missing one (MG-05).
  if (factor === undefined || factor.user_id !== auth.user.id) throw new TwofoldError('not_found', 'No factor with that id.');
  if (factor.status !== 'pending') throw new TwofoldError('invalid_request', 'This factor is already active.');
  if (auth.kind === 'mfa') await requireNoActiveFactor(ctx, auth);
  await checkAccountThrottle(ctx, auth.user.username);
  const attempt = auth.kind === 'mfa' ? await spendAttempt(ctx, auth) : undefined;

  const now = ctx.now();
  const step = isTotpCodeShape(code)
    ? verifyTotpCode({ secretBase32: openTotpSecret(ctx, factor), code, nowMs: now, windowSteps: ctx.config.mfa.totpWindowSteps })
    : undefined;
  if (step === undefined) return rejectWrongCode(ctx, auth, attempt, meta, isTotpCodeShape(code) ? 'wrong_code' : 'malformed');

  if (auth.kind === 'access') {
    const activated = await activateFactor(ctx.db, factor.id, step, now);
    if (!activated) return rejectWrongCode(ctx, auth, attempt, meta, 'replay');
    recordActivation(ctx, auth, factor, meta);
    return { factor: toFactorView({ ...factor, status: 'active', activated_at: now, last_used_at: now }) };
  }

  const completed = await runTransaction(ctx.db, async (trx) => {
    if (!(await activateFactor(trx, factor.id, step, now))) return undefined;
    const session = await completePendingSession(ctx, trx, auth, 'totp');
    return { session, recoveryCodes: await issueRecoveryCodes(ctx, trx, auth.user.id) };
  });
  if (completed === undefined) return rejectWrongCode(ctx, auth, attempt, meta, 'replay');
  recordActivation(ctx, auth, factor, meta);
  ctx.events.record({ type: 'recovery_codes.issued', userId: auth.user.id, sessionId: auth.session.id, details: { count: completed.recoveryCodes.length } });
  const tokens = await respondWithTokens(ctx, auth, completed.session, meta);
  return {
    ...tokens,
    factor: toFactorView({ ...factor, status: 'active', activated_at: now, last_used_at: now }),
    recovery_codes: completed.recoveryCodes,
  };
}

function recordActivation(ctx: FlowContext, auth: PendingAuthentication | AccessAuthentication, factor: FactorRow, meta: RequestMeta): void {
  ctx.events.record({ type: 'factor.activated', userId: auth.user.id, sessionId: auth.session.id, factorId: factor.id, ip: meta.ip, userAgent: meta.userAgent, details: { type: factor.type } });
}
