// GET /v1/me: who the access token speaks for, their factors (never a secret) and this session.
import { hasPassword } from '../../core/password/no-password.js';
import { readAccountOverview } from '../../store/repositories/account-overview.js';
import type { AccessAuthentication } from '../sessions/authenticate.js';
import type { FlowContext } from '../shared/context.js';
import { toFactorView, toSessionView, toUserView, type FactorView, type SessionView, type UserView } from '../shared/views.js';

export interface MeResult {
  user: UserView;
  factors: FactorView[];
  recovery_codes_remaining: number;
  /** False once the account went passwordless (PW-19): pages and SDKs offer "Set a password" then. */
  has_password: boolean;
  session: SessionView;
}

export async function describeMe(ctx: FlowContext, auth: AccessAuthentication): Promise<MeResult> {
  const overview = await readAccountOverview(ctx.db, auth.user.id);
  return {
    user: toUserView(auth.user),
    factors: overview.factors.map(toFactorView),
    recovery_codes_remaining: overview.recoveryCodesRemaining,
    has_password: hasPassword(auth.user),
    session: toSessionView(auth.session, ctx.config.sessions.idleTimeoutSeconds),
  };
}
