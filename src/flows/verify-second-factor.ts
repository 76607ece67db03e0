// POST /v1/mfa/verify (the seed's steps 6–7): an mfa_token plus a TOTP code or a recovery code
// becomes an access token and a refresh token. Each attempt is spent before the code is
// evaluated; the proof is claimed and the session upgraded in one transaction.
import { hashRecoveryCode, normalizeRecoveryCode } from '../core/recovery/codes.js';
import { isTotpCodeShape, verifyTotpCode } from '../core/totp/verify.js';
import { TwofoldError } from '../errors.js';
import type { FactorRow } from '../store/database.js';
import { claimTotpStep, listFactorsOfUser } from '../store/repositories/factors.js';
import { consumeRecoveryCode } from '../store/repositories/recovery-codes.js';
import type { PendingAuthentication } from './authenticate.js';
import type { FlowContext, RequestMeta } from './context.js';
import { invalidRequest } from './errors.js';
import { completePendingSession, rejectWrongCode, respondWithTokens, spendAttempt } from './second-factor.js';
import { checkAccountThrottle } from './throttle.js';
import { openTotpSecret } from './totp-factor.js';
import type { TokenResponse } from './tokens.js';
import { runTransaction } from '../store/transaction.js';

export interface VerifySecondFactorInput {
  factor_id?: string | undefined;
  code?: string | undefined;
  recovery_code?: string | undefined;
}

export async function verifySecondFactor(
  ctx: FlowContext,
  auth: PendingAuthentication,
  input: VerifySecondFactorInput,
  meta: RequestMeta = {},
): Promise<TokenResponse> {
  if ((input.code === undefined) === (input.recovery_code === undefined)) {
    throw invalidRequest('code', 'Send exactly one of "code" or "recovery_code".');
  }
  await checkAccountThrottle(ctx, auth.user.username);
  const candidates = input.code === undefined ? [] : await totpCandidates(ctx, auth, input.factor_id);
  const attempt = await spendAttempt(ctx, auth);
  return input.code !== undefined
    ? verifyTotp(ctx, auth, candidates, input.code, attempt, meta)
    : verifyRecoveryCode(ctx, auth, input.recovery_code ?? '', attempt, meta);
}

/** Only the token's own user's active TOTP factors; a factor_id of anyone else's is "not found". */
async function totpCandidates(ctx: FlowContext, auth: PendingAuthentication, factorId: string | undefined): Promise<FactorRow[]> {
  const active = (await listFactorsOfUser(ctx.db, auth.user.id, 'active')).filter((factor) => factor.type === 'totp');
  if (factorId === undefined) return active;
  const chosen = active.filter((factor) => factor.id === factorId);
  if (chosen.length === 0) throw new TwofoldError('not_found', 'No active authenticator-app factor with that id for this login.');
  return chosen;
}

async function verifyTotp(
  ctx: FlowContext,
  auth: PendingAuthentication,
  candidates: FactorRow[],
  code: string,
  attempt: number,
  meta: RequestMeta,
): Promise<TokenResponse> {
  if (!isTotpCodeShape(code)) return rejectWrongCode(ctx, auth, attempt, meta, 'malformed');
  const now = ctx.now();
  for (const factor of candidates) {
    const step = verifyTotpCode({ secretBase32: openTotpSecret(ctx, factor), code, nowMs: now, windowSteps: ctx.config.mfa.totpWindowSteps });
    if (step === undefined) continue;
    const completed = await runTransaction(ctx.db, async (trx) => {
      // The replay defence: the step must be later than any step this factor accepted before.
      if (!(await claimTotpStep(trx, factor.id, step, now))) return undefined;
      return completePendingSession(ctx, trx, auth, 'totp');
    });
    if (completed === undefined) return rejectWrongCode(ctx, auth, attempt, meta, 'replay');
    return respondWithTokens(ctx, auth, completed, meta);
  }
  return rejectWrongCode(ctx, auth, attempt, meta, 'wrong_code');
}

async function verifyRecoveryCode(
  ctx: FlowContext,
  auth: PendingAuthentication,
  recoveryCode: string,
  attempt: number,
  meta: RequestMeta,
): Promise<TokenResponse> {
  const normalized = normalizeRecoveryCode(recoveryCode);
  if (normalized === undefined) return rejectWrongCode(ctx, auth, attempt, meta, 'malformed');
  const codeHash = hashRecoveryCode(normalized, ctx.codePepper);
  const completed = await runTransaction(ctx.db, async (trx) => {
    if (!(await consumeRecoveryCode(trx, auth.user.id, codeHash, ctx.now()))) return undefined;
    return completePendingSession(ctx, trx, auth, 'recovery_code');
  });
  if (completed === undefined) return rejectWrongCode(ctx, auth, attempt, meta, 'wrong_code');
  ctx.events.record({ type: 'recovery_code.used', userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent });
  return respondWithTokens(ctx, auth, completed, meta);
}
