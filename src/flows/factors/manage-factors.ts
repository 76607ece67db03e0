// GET/PATCH/DELETE of factors and regeneration of recovery codes (MG-05, RC-05). Removing a
// factor or issuing new recovery codes needs a recent second factor (step-up); the last active
// factor cannot be removed (2FA is always required), nor a passkey a passwordless account needs
// (PW-16); a removed factor stops working at once —
// its row, its challenges and its passkey credential are gone in one transaction.
import { TwofoldError } from '../../errors.js';
import type { FactorRow } from '../../store/database.js';
import { deleteFactor, findFactor, listFactorsOfUser, renameFactor } from '../../store/repositories/factors.js';
import { lockForTransaction } from '../../store/locks.js';
import { runTransaction } from '../../store/transaction.js';
import type { AccessAuthentication } from '../sessions/authenticate.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { factorLabel } from './factor-label.js';
import { requireFactorEnabled } from './factor-types.js';
import { issueRecoveryCodes } from './recovery-codes.js';
import { recordCredentialsChange } from '../sessions/credentials-changed.js';
import { announceRevokedSessions } from '../sessions/revoke-sessions.js';
import { forgetAllTrustedDevices } from './trusted-devices.js';
import { requireRecentAuthentication } from '../sessions/step-up.js';
import { requirePasswordlessFactorsKept } from './keep-passwordless-factors.js';
import { toFactorView, type FactorView } from '../shared/views.js';

async function ownFactor(ctx: FlowContext, auth: AccessAuthentication, factorId: string): Promise<FactorRow> {
  const factor = await findFactor(ctx.db, factorId);
  if (factor === undefined || factor.user_id !== auth.user.id) throw new TwofoldError('not_found', 'No factor with that id.');
  return factor;
}

export async function listFactors(ctx: FlowContext, auth: AccessAuthentication): Promise<FactorView[]> {
  return (await listFactorsOfUser(ctx.db, auth.user.id)).map(toFactorView);
}

export async function renameOwnFactor(ctx: FlowContext, auth: AccessAuthentication, factorId: string, label: string | null, meta: RequestMeta = {}): Promise<FactorView> {
  const factor = await ownFactor(ctx, auth, factorId);
  const trimmed = factorLabel(label);
  await renameFactor(ctx.db, factor.id, trimmed);
  ctx.events.record({ type: 'factor.renamed', userId: auth.user.id, sessionId: auth.session.id, factorId: factor.id, ip: meta.ip, userAgent: meta.userAgent });
  return toFactorView({ ...factor, label: trimmed });
}

export async function removeOwnFactor(ctx: FlowContext, auth: AccessAuthentication, factorId: string, meta: RequestMeta = {}): Promise<void> {
  const factor = await ownFactor(ctx, auth, factorId);
  // Abandoned enrollments can go with any access token; a working factor needs a step-up.
  if (factor.status === 'active') requireRecentAuthentication(ctx, auth);
  const ended = await runTransaction(ctx.db, async (trx) => {
    // Two removals at once must not both see "another factor remains".
    await lockForTransaction(trx, `factors:${auth.user.id}`);
    // Whoever else holds a session, or is halfway through a login, may be the reason this factor
    // goes: they go too (SS-06, RC-03). First, so the user's row is taken before any factor's.
    const ended = factor.status === 'active' ? await recordCredentialsChange(ctx, trx, { userId: auth.user.id, reason: 'factor_removed', keep: auth.session.id, signedIn: 'end' }) : undefined;
    const active = await listFactorsOfUser(trx, auth.user.id, 'active');
    if (factor.status === 'active' && !active.some((other) => other.id !== factor.id)) {
      throw new TwofoldError('forbidden', 'This is your last factor: add another one before removing it.');
    }
    // Without a password, the passkeys (and recovery codes) are the way in (PW-16).
    await requirePasswordlessFactorsKept(ctx, trx, factor);
    // A pending factor confirmed meanwhile is a working factor now, which this request may not remove.
    if (!(await deleteFactor(trx, factor.id, factor.status))) throw new TwofoldError('not_found', 'No such factor any more (it may just have changed); list your factors and try again.');
    if (ended !== undefined) await forgetAllTrustedDevices(ctx, trx, auth.user.id, 'factor_removed');
    return ended;
  });
  await announceRevokedSessions(ctx, ended?.signedIn ?? []);
  const details = { type: factor.type, sessions_ended: ended?.signedIn.length ?? 0, logins_ended: ended?.pendingLogins ?? 0 };
  ctx.events.record({ type: 'factor.removed', userId: auth.user.id, sessionId: auth.session.id, factorId: factor.id, ip: meta.ip, userAgent: meta.userAgent, details });
}

export async function regenerateRecoveryCodes(ctx: FlowContext, auth: AccessAuthentication, meta: RequestMeta = {}): Promise<string[]> {
  requireFactorEnabled(ctx, 'recovery');
  requireRecentAuthentication(ctx, auth);
  const codes = await runTransaction(ctx.db, (trx) => issueRecoveryCodes(ctx, trx, auth.user.id));
  ctx.events.record({ type: 'recovery_codes.issued', userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent, details: { count: codes.length } });
  return codes;
}
