// POST /v1/mfa/verify, the last step of a sign-in: a proof of the second factor — a TOTP code, a code
// sent by SMS or e-mail (with its challenge_id), a passkey assertion (with its challenge_id) or a
// recovery code. With an mfa_token it completes the login (access + refresh token); with an access
// token it is a step-up (RFC 9470) and returns an access token with a new auth_time. A code is
// read first (spaces and dashes allowed, code-input.ts): one that cannot be a code is a 400 that
// spends nothing. Then the attempt is spent before the proof is evaluated; the proof is claimed and
// the session updated in one transaction.
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { hashRecoveryCode } from '../../core/recovery/codes.js';
import { isTotpCodeShape, verifyTotpCode } from '../../core/totp/verify.js';
import { TwofoldError } from '../../errors.js';
import type { ChallengeRow, FactorRow } from '../../store/database.js';
import { findChallenge } from '../../store/repositories/challenges.js';
import { claimTotpStep, findFactor, listFactorsOfUser, touchFactor } from '../../store/repositories/factors.js';
import { consumeRecoveryCode } from '../../store/repositories/recovery-codes.js';
import { holdUserRow } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import { requireNumericCode, requireRecoveryCode } from '../budgets/code-input.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { holdPendingLogin } from '../sessions/credentials-changed.js';
import { invalidRequest } from '../shared/errors.js';
import { requireFactorEnabled } from '../factors/factor-types.js';
import { checkSentCode } from '../factors/otp-challenges.js';
import { checkPasskeyAssertion } from '../factors/passkeys.js';
import {
  completePendingSession,
  completeStepUp,
  rejectWrongCode,
  requireStepUpMethod,
  respondWithStepUp,
  respondWithTokens,
  spendAttempt,
  type FailureReason,
  type Proof,
  type ProofKind,
  type SecondFactorAuthentication,
  type StepUpResponse,
} from '../sessions/second-factor.js';
import { withGuess } from '../budgets/throttle.js';
import { deviceTokenProof, rememberDevice, trustedDevicesEnabled, type RememberedDevice } from '../factors/trusted-devices.js';
import { isAal2Method } from '../../core/tokens/authentication-methods.js';
import type { TokenResponse } from '../sessions/tokens.js';
import { openTotpSecret } from '../factors/totp-factor.js';

export interface VerifySecondFactorInput {
  factor_id?: string | undefined;
  challenge_id?: string | undefined;
  code?: string | undefined;
  recovery_code?: string | undefined;
  credential?: AuthenticationResponseJSON | undefined;
  /** A remembered browser's token, standing in for the second factor (aal1). */
  device_token?: string | undefined;
  /** Remember this browser after this sign-in (opt-in; a second-factor sign-in only). */
  remember_device?: boolean | undefined;
}

type Evaluation = { ok: true; proof: Proof } | { ok: false; reason: FailureReason };

export function verifySecondFactor(ctx: FlowContext, auth: SecondFactorAuthentication & { kind: 'mfa' }, input: VerifySecondFactorInput, meta?: RequestMeta): Promise<TokenResponse>;
export function verifySecondFactor(ctx: FlowContext, auth: SecondFactorAuthentication & { kind: 'access' }, input: VerifySecondFactorInput, meta?: RequestMeta): Promise<StepUpResponse>;
export function verifySecondFactor(ctx: FlowContext, auth: SecondFactorAuthentication, input: VerifySecondFactorInput, meta?: RequestMeta): Promise<TokenResponse | StepUpResponse>;
export async function verifySecondFactor(
  ctx: FlowContext,
  auth: SecondFactorAuthentication,
  input: VerifySecondFactorInput,
  meta: RequestMeta = {},
): Promise<TokenResponse | (TokenResponse & RememberedDevice) | StepUpResponse> {
  const given = [input.code, input.recovery_code, input.credential, input.device_token].filter((value) => value !== undefined).length;
  if (given !== 1) throw invalidRequest('code', 'Send exactly one of "code", "recovery_code", "credential" or "device_token".');
  // Everything that can be refused without looking at the proof is refused before anything is spent.
  const { kind, evaluate } = await prepareEvaluation(ctx, auth, input, meta);
  return withGuess(ctx, auth.user.username, { ...meta, userId: auth.user.id }, async (guess) => {
    const spent = { attempt: await spendAttempt(ctx, auth), guess };
    const evaluation = await evaluate(spent.attempt);
    if (!evaluation.ok) return rejectWrongCode(ctx, auth, spent, meta, evaluation.reason, kind);
    const { proof } = evaluation;
    if (auth.kind === 'access') requireStepUpMethod(proof.method);

    const recordRecoveryCodeUse = () => {
      if (proof.method === 'recovery_code') ctx.events.record({ type: 'recovery_code.used', userId: auth.user.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent });
    };
    const replayReason: FailureReason = proof.method === 'totp' ? 'replay' : 'wrong_code';
    if (auth.kind === 'mfa') {
      // Only a real second factor can be remembered; a remembered browser cannot extend itself.
      const remember = input.remember_device === true && trustedDevicesEnabled(ctx) && isAal2Method(proof.method);
      const login = await runTransaction(ctx.db, async (trx) => {
        const held = await holdPendingLogin(trx, auth);
        if (!(await proof.claim(trx))) return undefined;
        const completed = await completePendingSession(ctx, trx, held, proof.method, { meta });
        // In the login's transaction, under the user's row: a password or factor change that follows
        // forgets this browser too, instead of missing one remembered just after it looked.
        return { completed, device: remember ? await rememberDevice(ctx, trx, auth.user.id, meta) : undefined };
      });
      if (login === undefined) return rejectWrongCode(ctx, auth, spent, meta, replayReason, kind);
      recordRecoveryCodeUse();
      const tokens = await respondWithTokens(ctx, auth, login.completed, meta, guess);
      return login.device === undefined ? tokens : { ...tokens, ...login.device };
    }
    const stepUp = await runTransaction(ctx.db, async (trx) => {
      // The user's row first, in the same order as every change takes it (no deadlock with a removal).
      await holdUserRow(trx, auth.user.id);
      return (await proof.claim(trx)) ? completeStepUp(ctx, trx, auth, proof.method) : undefined;
    });
    if (stepUp === undefined) return rejectWrongCode(ctx, auth, spent, meta, replayReason, kind);
    recordRecoveryCodeUse();
    return respondWithStepUp(ctx, auth, stepUp, meta, guess);
  });
}

/**
 * Looks up what the proof refers to; returns the kind of proof and the evaluation to run once the
 * attempt is spent.
 */
async function prepareEvaluation(
  ctx: FlowContext,
  auth: SecondFactorAuthentication,
  input: VerifySecondFactorInput,
  meta: RequestMeta,
): Promise<{ kind: ProofKind; evaluate: (attempt: number) => Promise<Evaluation> }> {
  if (input.device_token !== undefined) {
    const deviceToken = input.device_token;
    return {
      kind: 'trusted_device',
      evaluate: async () => {
        const proof = await deviceTokenProof(ctx, auth.user.id, deviceToken, meta);
        return proof === undefined ? { ok: false, reason: 'wrong_code' } : { ok: true, proof };
      },
    };
  }
  if (input.recovery_code !== undefined) {
    requireFactorEnabled(ctx, 'recovery');
    const recoveryCode = requireRecoveryCode(input.recovery_code, 'recovery_code');
    return { kind: 'recovery_code', evaluate: async () => evaluateRecoveryCode(ctx, auth, recoveryCode) };
  }
  if (input.challenge_id !== undefined) {
    const { challenge, factor } = await openChallengeOf(ctx, auth, input.challenge_id, input.factor_id);
    if (input.credential !== undefined) {
      if (challenge.kind !== 'webauthn') throw invalidRequest('credential', 'This challenge expects a code, not a passkey.');
      const credential = input.credential;
      return { kind: 'webauthn', evaluate: async () => checkPasskeyAssertion(ctx, { factor, challenge, credential }, meta) };
    }
    if (challenge.kind !== 'otp') throw invalidRequest('code', 'This challenge expects a passkey, not a code.');
    const code = requireNumericCode(input.code);
    return {
      kind: factor.type === 'email' ? 'email' : 'sms',
      evaluate: () =>
        checkSentCode(ctx, { challenge, factor, code }, async (trx, now) => {
          await touchFactor(trx, factor.id, now);
          return true;
        }),
    };
  }
  if (input.credential !== undefined) throw invalidRequest('challenge_id', 'A passkey answers a challenge: send the challenge_id from /v1/mfa/challenge.');
  const candidates = await totpCandidates(ctx, auth, input.factor_id);
  const code = requireNumericCode(input.code);
  return { kind: 'totp', evaluate: async () => evaluateTotp(ctx, candidates, code) };
}

/**
 * A challenge of this user and this session, asked for what it now answers — a login's challenge
 * for the login, a step-up's for a step-up (a pending session keeps its id once signed in, so a
 * code sent for its login must not later pass for a fresh step-up) — for an active factor of an
 * enabled type.
 */
async function openChallengeOf(ctx: FlowContext, auth: SecondFactorAuthentication, challengeId: string, factorId: string | undefined): Promise<{ challenge: ChallengeRow; factor: FactorRow }> {
  const challenge = await findChallenge(ctx.db, challengeId);
  const factor = challenge === undefined ? undefined : await findFactor(ctx.db, challenge.factor_id);
  const belongs =
    challenge !== undefined &&
    factor !== undefined &&
    challenge.user_id === auth.user.id &&
    challenge.session_id === auth.session.id &&
    challenge.purpose === (auth.kind === 'mfa' ? 'login' : 'step_up') &&
    factor.status === 'active' &&
    (factorId === undefined || factorId === factor.id);
  // Someone else's challenge, or one from another login, is indistinguishable from none (OB-02).
  if (!belongs) throw new TwofoldError('invalid_code', 'No open challenge with that id for this sign-in; ask for a new code.');
  requireFactorEnabled(ctx, factor.type);
  return { challenge, factor };
}

/** Only the token's own user's active TOTP factors; a factor_id of anyone else's is "not found". */
async function totpCandidates(ctx: FlowContext, auth: SecondFactorAuthentication, factorId: string | undefined): Promise<FactorRow[]> {
  const active = (await listFactorsOfUser(ctx.db, auth.user.id, 'active')).filter((factor) => factor.type === 'totp');
  if (factorId === undefined) return ctx.config.factors.has('totp') ? active : [];
  const chosen = active.filter((factor) => factor.id === factorId);
  if (chosen.length === 0) throw new TwofoldError('not_found', 'No active authenticator-app factor with that id for this sign-in.');
  requireFactorEnabled(ctx, 'totp');
  return chosen;
}

async function evaluateTotp(ctx: FlowContext, candidates: FactorRow[], code: string): Promise<Evaluation> {
  if (!isTotpCodeShape(code)) return { ok: false, reason: 'malformed' };
  const now = ctx.now();
  for (const factor of candidates) {
    const step = verifyTotpCode({ secretBase32: openTotpSecret(ctx, factor), code, nowMs: now, windowSteps: ctx.config.mfa.totpWindowSteps });
    // The replay defence: the step must be later than any step this factor accepted before.
    if (step !== undefined) return { ok: true, proof: { method: 'totp', claim: (trx) => claimTotpStep(trx, factor.id, step, now) } };
  }
  return { ok: false, reason: 'wrong_code' };
}

/** `normalized`: read by requireRecoveryCode before anything was spent. */
async function evaluateRecoveryCode(ctx: FlowContext, auth: SecondFactorAuthentication, normalized: string): Promise<Evaluation> {
  const codeHash = hashRecoveryCode(normalized, ctx.codePepper);
  return { ok: true, proof: { method: 'recovery_code', claim: (trx) => consumeRecoveryCode(trx, auth.user.id, codeHash, ctx.now()) } };
}
