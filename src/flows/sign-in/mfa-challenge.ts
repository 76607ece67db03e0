// POST /v1/mfa/challenge {factor_id}: what a factor needs before it can be verified. An SMS or
// e-mail factor gets a code sent (a repeat is a resend: the previous code dies); a passkey gets
// WebAuthn request options. With an mfa_token it serves the login; with an access token, a
// step-up. For a factor still being enrolled it repeats the enrollment challenge.
import { TwofoldError } from '../../errors.js';
import type { ChallengePurpose } from '../../store/database.js';
import { findFactor } from '../../store/repositories/factors.js';
import type { AccessAuthentication, PendingAuthentication } from '../sessions/authenticate.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { requireEnrollmentAllowed, requireEnrollmentOfThisSession } from '../factors/enroll-factor.js';
import { requireFactorEnabled } from '../factors/factor-types.js';
import { sendOtpChallenge } from '../factors/otp-challenges.js';
import { startPasskeyAuthentication, startPasskeyRegistration } from '../factors/passkeys.js';
import { maskedDestination } from '../shared/views.js';

export async function startChallenge(ctx: FlowContext, auth: PendingAuthentication | AccessAuthentication, factorId: string, meta: RequestMeta = {}) {
  const factor = await findFactor(ctx.db, factorId);
  if (factor === undefined || factor.user_id !== auth.user.id) throw new TwofoldError('not_found', 'No factor with that id.');
  requireFactorEnabled(ctx, factor.type);
  if (factor.type === 'totp') throw new TwofoldError('invalid_request', 'An authenticator app needs no challenge: send its current code to /v1/mfa/verify.');

  const enrolling = factor.status === 'pending';
  // A new enrollment challenge is a new chance to add a factor: it takes what starting the
  // enrollment took, in the session that started it.
  if (enrolling) {
    requireEnrollmentOfThisSession(factor, auth);
    await requireEnrollmentAllowed(ctx, auth);
  }
  const purpose: ChallengePurpose = enrolling ? 'enroll' : auth.kind === 'mfa' ? 'login' : 'step_up';
  const base = { userId: auth.user.id, sessionId: auth.session.id };

  if (factor.type === 'webauthn') {
    return enrolling ? startPasskeyRegistration(ctx, { user: auth.user, factorId: factor.id, sessionId: auth.session.id }) : startPasskeyAuthentication(ctx, { ...base, factor, purpose });
  }
  const sent = await sendOtpChallenge(ctx, { ...base, factor, purpose }, meta);
  return { ...sent, destination: maskedDestination(factor) };
}
