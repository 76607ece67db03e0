// POST /v1/factors/{id}/verify: the first proof from a new factor — a TOTP code from the app, the
// code sent to the phone or address, or the passkey's registration response — shows the person
// holds it, and the factor becomes active. With an mfa_token this also completes the first
// sign-in: tokens plus recovery codes, shown only here. The confirming proof is claimed (the TOTP
// step, the sent code, the WebAuthn challenge), so it cannot be used again.
// Confirming takes what starting took, in the session that started it: an aal2 session with a
// recent second factor (or an mfa_token while no factor is active), checked again here — a
// remembered browser (aal1), a session gone stale or another session of the same person cannot
// finish an enrollment. A new factor is a credential change: logins in flight end (RC-03).
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { amrValueOf, type AuthMethod } from '../../core/tokens/authentication-methods.js';
import { isTotpCodeShape, verifyTotpCode } from '../../core/totp/verify.js';
import { TwofoldError, invalidTokenError } from '../../errors.js';
import type { ChallengeRow, FactorRow } from '../../store/database.js';
import { activateFactor, activatePendingFactor, findFactor } from '../../store/repositories/factors.js';
import { findChallenge, findOpenChallenge } from '../../store/repositories/challenges.js';
import { resetSessionAttempts } from '../../store/repositories/sessions.js';
import { holdUserRow } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import type { AccessAuthentication, PendingAuthentication } from '../sessions/authenticate.js';
import { requireNumericCode } from '../budgets/code-input.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { invalidRequest } from '../shared/errors.js';
import { holdPendingLogin, recordCredentialsChange } from '../sessions/credentials-changed.js';
import { requireEnrollmentAllowed, requireEnrollmentOfThisSession } from './enroll-factor.js';
import { requireFactorEnabled } from './factor-types.js';
import { checkSentCode } from './otp-challenges.js';
import { checkPasskeyRegistration } from './passkeys.js';
import { issueRecoveryCodes } from './recovery-codes.js';
import { completePendingSession, rejectWrongCode, respondWithTokens, spendAttempt, type FailureReason, type Proof } from '../sessions/second-factor.js';
import { withGuess } from '../budgets/throttle.js';
import { forgetAllTrustedDevices } from './trusted-devices.js';
import type { TokenResponse } from '../sessions/tokens.js';
import { openTotpSecret } from './totp-factor.js';
import { toFactorView, type FactorView } from '../shared/views.js';

export interface ConfirmFactorInput {
  code?: string | undefined;
  challenge_id?: string | undefined;
  credential?: RegistrationResponseJSON | undefined;
}

export type ConfirmFactorResult = { factor: FactorView } | (TokenResponse & { factor: FactorView; recovery_codes: string[] });

type Evaluation = { ok: true; proof: Proof } | { ok: false; reason: FailureReason };

export async function confirmFactor(
  ctx: FlowContext,
  auth: PendingAuthentication | AccessAuthentication,
  factorId: string,
  input: ConfirmFactorInput,
  meta: RequestMeta = {},
): Promise<ConfirmFactorResult> {
  const factor = await findFactor(ctx.db, factorId);
  // Someone else's factor is indistinguishable from a missing one (MG-05).
  if (factor === undefined || factor.user_id !== auth.user.id) throw new TwofoldError('not_found', 'No factor with that id.');
  if (factor.status !== 'pending') throw new TwofoldError('invalid_request', 'This factor is already active.');
  requireFactorEnabled(ctx, factor.type);
  requireEnrollmentOfThisSession(factor, auth);
  await requireEnrollmentAllowed(ctx, auth);
  const evaluate = await prepareEvaluation(ctx, auth, factor, input, meta);
  return withGuess(ctx, auth.user.username, { ...meta, userId: auth.user.id }, async (guess) => {
    const spent = { attempt: await spendAttempt(ctx, auth), guess };
    const evaluation = await evaluate();
    if (!evaluation.ok) return rejectWrongCode(ctx, auth, spent, meta, evaluation.reason, factor.type);
    const { proof } = evaluation;
    const now = ctx.now();
    const activatedView = () => toFactorView({ ...factor, status: 'active', activated_at: now, last_used_at: now });

    if (auth.kind === 'access') {
      const claimed = await runTransaction(ctx.db, async (trx) => {
        await holdUserRow(trx, auth.user.id);
        if (!(await proof.claim(trx))) return false;
        const change = await recordCredentialsChange(ctx, trx, { userId: auth.user.id, reason: 'factor_added', keep: auth.session.id, signedIn: 'keep' });
        // Ended meanwhile (signed out everywhere, a password change elsewhere): it adds nothing.
        if (change.kept !== 'active') throw invalidTokenError('The session of this token has ended.');
        await resetSessionAttempts(trx, auth.session.id);
        await forgetAllTrustedDevices(ctx, trx, auth.user.id, 'factor_added');
        return true;
      });
      if (!claimed) return rejectWrongCode(ctx, auth, spent, meta, 'replay', factor.type);
      recordActivation(ctx, auth, factor, proof.method, meta);
      return { factor: activatedView() };
    }

    const completed = await runTransaction(ctx.db, async (trx) => {
      // Checked before the change this confirmation makes: its own factor does not void its own login.
      const login = await holdPendingLogin(trx, auth);
      if (!(await proof.claim(trx))) return undefined;
      await recordCredentialsChange(ctx, trx, { userId: auth.user.id, reason: 'factor_added', keep: auth.session.id, signedIn: 'keep' });
      const session = await completePendingSession(ctx, trx, login, proof.method, { meta });
      return { session, recoveryCodes: await issueRecoveryCodes(ctx, trx, auth.user.id) };
    });
    if (completed === undefined) return rejectWrongCode(ctx, auth, spent, meta, 'replay', factor.type);
    recordActivation(ctx, auth, factor, proof.method, meta);
    if (completed.recoveryCodes.length > 0) {
      ctx.events.record({ type: 'recovery_codes.issued', userId: auth.user.id, sessionId: auth.session.id, details: { count: completed.recoveryCodes.length } });
    }
    const tokens = await respondWithTokens(ctx, auth, completed.session, meta, guess);
    return { ...tokens, factor: activatedView(), recovery_codes: completed.recoveryCodes };
  });
}

async function prepareEvaluation(
  ctx: FlowContext,
  auth: PendingAuthentication | AccessAuthentication,
  factor: FactorRow,
  input: ConfirmFactorInput,
  meta: RequestMeta,
): Promise<() => Promise<Evaluation>> {
  if (factor.type === 'webauthn') {
    const credential = input.credential;
    if (credential === undefined) throw invalidRequest('credential', 'Send the passkey registration response as "credential".');
    const challenge = await enrollmentChallenge(ctx, auth, factor, input.challenge_id);
    return () => checkPasskeyRegistration(ctx, { factor, challenge, credential }, meta);
  }
  if (input.code === undefined) throw invalidRequest('code', 'Send the code as "code".');
  // Read before anything is spent: input that cannot be a code costs no attempt and no guess.
  const code = requireNumericCode(input.code);
  if (factor.type === 'totp') return async () => evaluateTotp(ctx, factor, code);
  const challenge = await enrollmentChallenge(ctx, auth, factor, input.challenge_id);
  return () => checkSentCode(ctx, { challenge, factor, code }, (trx, now) => activatePendingFactor(trx, factor.id, now));
}

/** The open enrollment challenge of this factor in this session (a given id must be that one). */
async function enrollmentChallenge(ctx: FlowContext, auth: PendingAuthentication | AccessAuthentication, factor: FactorRow, challengeId: string | undefined): Promise<ChallengeRow> {
  const challenge = challengeId === undefined ? await findOpenChallenge(ctx.db, factor.id, auth.session.id, ctx.now()) : await findChallenge(ctx.db, challengeId);
  if (challenge === undefined || challenge.factor_id !== factor.id || challenge.session_id !== auth.session.id || challenge.purpose !== 'enroll') {
    throw new TwofoldError('invalid_code', 'No open challenge for this factor in this session; ask for a new one at /v1/mfa/challenge.');
  }
  return challenge;
}

function evaluateTotp(ctx: FlowContext, factor: FactorRow, code: string): Evaluation {
  if (!isTotpCodeShape(code)) return { ok: false, reason: 'malformed' };
  const now = ctx.now();
  const step = verifyTotpCode({ secretBase32: openTotpSecret(ctx, factor), code, nowMs: now, windowSteps: ctx.config.mfa.totpWindowSteps });
  if (step === undefined) return { ok: false, reason: 'wrong_code' };
  // Activation claims the step, so the confirmation code cannot log in afterwards.
  return { ok: true, proof: { method: 'totp', claim: (trx) => activateFactor(trx, factor.id, step, now) } };
}

function recordActivation(ctx: FlowContext, auth: PendingAuthentication | AccessAuthentication, factor: FactorRow, method: AuthMethod, meta: RequestMeta): void {
  // For a passkey, what the registration proved: `hwk` (a trusted attestation) or `swk`.
  const details: Record<string, string> = factor.type === 'webauthn' ? { type: factor.type, key: amrValueOf(method) } : { type: factor.type };
  ctx.events.record({ type: 'factor.activated', userId: auth.user.id, sessionId: auth.session.id, factorId: factor.id, ip: meta.ip, userAgent: meta.userAgent, details });
}
