// POST /v1/factors: start enrolling a factor. With an mfa_token only while the user has no
// active factor (first sign-in, or after an admin reset); afterwards only with an access token
// whose second factor is recent (step-up), so a stolen password or a stale token cannot add one.
import { TwofoldError } from '../errors.js';
import { listFactorsOfUser } from '../store/repositories/factors.js';
import type { AccessAuthentication, PendingAuthentication } from './authenticate.js';
import type { FlowContext, RequestMeta } from './context.js';
import { requireRecentAuthentication } from './step-up.js';
import { createPendingTotpFactor, withQrCode, type TotpEnrollment } from './totp-factor.js';
import { runTransaction } from '../store/transaction.js';

export interface EnrollFactorInput {
  type: 'totp';
  label?: string | undefined;
}

export async function enrollFactor(
  ctx: FlowContext,
  auth: PendingAuthentication | AccessAuthentication,
  input: EnrollFactorInput,
  meta: RequestMeta = {},
): Promise<TotpEnrollment> {
  if (auth.kind === 'mfa') await requireNoActiveFactor(ctx, auth);
  else requireRecentAuthentication(ctx, auth);
  const label = input.label?.trim() || null;
  const pending = await runTransaction(ctx.db, (trx) => createPendingTotpFactor(ctx, trx, auth.user, label));
  ctx.events.record({ type: 'factor.enrolled', userId: auth.user.id, sessionId: auth.session.id, factorId: pending.factor_id, ip: meta.ip, userAgent: meta.userAgent, details: { type: 'totp' } });
  return withQrCode(pending);
}

export async function requireNoActiveFactor(ctx: FlowContext, auth: PendingAuthentication): Promise<void> {
  if ((await listFactorsOfUser(ctx.db, auth.user.id, 'active')).length > 0) {
    throw new TwofoldError('forbidden', 'This account already has an active factor: verify it at /v1/mfa/verify, then add factors with an access token.');
  }
}
