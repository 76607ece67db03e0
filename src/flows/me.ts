// GET /v1/me: who the access token speaks for, their factors (never a secret) and this session.
import { countUnusedRecoveryCodes } from '../store/repositories/recovery-codes.js';
import { listFactorsOfUser } from '../store/repositories/factors.js';
import type { AccessAuthentication } from './authenticate.js';
import type { FlowContext } from './context.js';
import { toFactorView, toSessionView, toUserView, type FactorView, type SessionView, type UserView } from './views.js';

export interface MeResult {
  user: UserView;
  factors: FactorView[];
  recovery_codes_remaining: number;
  session: SessionView;
}

export async function describeMe(ctx: FlowContext, auth: AccessAuthentication): Promise<MeResult> {
  const [factors, recoveryCodesRemaining] = await Promise.all([listFactorsOfUser(ctx.db, auth.user.id), countUnusedRecoveryCodes(ctx.db, auth.user.id)]);
  return {
    user: toUserView(auth.user),
    factors: factors.map(toFactorView),
    recovery_codes_remaining: recoveryCodesRemaining,
    session: toSessionView(auth.session, ctx.config.sessions.idleTimeoutSeconds),
  };
}
