// A pending enrollment shown again — after a wrong first code, or a page loaded twice — instead of
// a new one: a new TOTP secret would leave a dead entry in the person's authenticator app, and a
// new SMS code would cost a send. Only the session that started the enrollment sees it, and only
// while it may still confirm it (the same checks as confirm-factor.ts), so this never shows a
// secret to anyone the enrollment itself would not have shown it to. The TOTP secret is opened
// from the factor's sealed row; pages carry only the factor's id.
import { TwofoldError } from '../../errors.js';
import type { ChallengeRow, FactorRow } from '../../store/database.js';
import { findChallenge, findOpenChallenge } from '../../store/repositories/challenges.js';
import { findFactor, listFactorsOfUser } from '../../store/repositories/factors.js';
import type { AccessAuthentication, PendingAuthentication } from '../sessions/authenticate.js';
import type { FlowContext } from '../shared/context.js';
import { requireEnrollmentAllowed, requireEnrollmentOfThisSession, smsRiskNotice, type PendingFactorFields } from './enroll-factor.js';
import { requireFactorEnabled } from './factor-types.js';
import { reopenPendingTotp, withQrCode, type TotpEnrollment } from './totp-factor.js';
import { maskedDestination } from '../shared/views.js';

type Auth = PendingAuthentication | AccessAuthentication;

export type ShownEnrollment =
  | TotpEnrollment
  /** `challenge_id`: the code sent that can still be typed; none when it expired or ran out of attempts (send a new one). */
  | (PendingFactorFields & { type: 'sms' | 'email'; destination: string; challenge_id: string | undefined; notice?: string })
  | (PendingFactorFields & { type: 'webauthn' });

/**
 * The pending factor `factorId` of this session, as its enrollment showed it; `challengeId` is the
 * code the page was answering (kept when still open). Undefined when there is no such pending
 * factor (confirmed, replaced by a newer one, removed, someone else's); throws what confirming
 * would throw when this session may no longer enroll (forbidden, insufficient_authentication).
 */
export async function showPendingEnrollment(ctx: FlowContext, auth: Auth, factorId: string, challengeId?: string): Promise<ShownEnrollment | undefined> {
  const factor = await findFactor(ctx.db, factorId);
  if (factor === undefined || factor.user_id !== auth.user.id || factor.status !== 'pending' || factor.session_id !== auth.session.id) return undefined;
  return show(ctx, auth, factor, challengeId);
}

/** This session's pending factor of `type`, if it started one (at most one: a new one replaces it). */
export async function showPendingEnrollmentOfType(ctx: FlowContext, auth: Auth, type: FactorRow['type']): Promise<ShownEnrollment | undefined> {
  const pending = (await listFactorsOfUser(ctx.db, auth.user.id, 'pending')).find((factor) => factor.type === type && factor.session_id === auth.session.id);
  return pending === undefined ? undefined : show(ctx, auth, pending, undefined);
}

async function show(ctx: FlowContext, auth: Auth, factor: FactorRow, challengeId: string | undefined): Promise<ShownEnrollment> {
  requireFactorEnabled(ctx, factor.type);
  requireEnrollmentOfThisSession(factor, auth);
  await requireEnrollmentAllowed(ctx, auth);
  const fields = { factor_id: factor.id, label: factor.label, status: 'pending' as const };
  if (factor.type === 'totp') return withQrCode(reopenPendingTotp(ctx, factor, auth.user));
  if (factor.type === 'webauthn') return { ...fields, type: 'webauthn' };
  if (factor.type !== 'sms' && factor.type !== 'email') throw new TwofoldError('invalid_request', 'This factor has no enrollment to show.');
  const shown = { ...fields, type: factor.type, destination: maskedDestination(factor), challenge_id: await typableChallenge(ctx, auth, factor, challengeId) };
  return factor.type === 'sms' ? { ...shown, notice: smsRiskNotice(ctx) } : shown;
}

/** The enrollment challenge a code can still be typed for: the one named, else the newest open one. */
async function typableChallenge(ctx: FlowContext, auth: Auth, factor: FactorRow, challengeId: string | undefined): Promise<string | undefined> {
  const now = ctx.now();
  const typable = (challenge: ChallengeRow | undefined): challenge is ChallengeRow =>
    challenge !== undefined &&
    challenge.factor_id === factor.id &&
    challenge.session_id === auth.session.id &&
    challenge.purpose === 'enroll' &&
    challenge.kind === 'otp' &&
    challenge.used_at === null &&
    challenge.superseded_at === null &&
    challenge.expires_at > now &&
    challenge.attempts < ctx.config.otp.maxAttemptsPerChallenge;
  const named = challengeId === undefined ? undefined : await findChallenge(ctx.db, challengeId);
  if (typable(named)) return named.id;
  const newest = await findOpenChallenge(ctx.db, factor.id, auth.session.id, now);
  return typable(newest) ? newest.id : undefined;
}
