// Handling the second-factor prompt's forms, for both uses: finishing a sign-in (pending session)
// and stepping up (signed-in session). Both call the API's own flows: startChallenge and
// verifySecondFactor.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TwofoldError } from '../../errors.js';
import type { AccessAuthentication, PendingAuthentication } from '../../flows/sessions/authenticate.js';
import { startChallenge } from '../../flows/sign-in/mfa-challenge.js';
import { verifySecondFactor, type VerifySecondFactorInput } from '../../flows/sign-in/verify-second-factor.js';
import { maskedDestination, toFactorView } from '../../flows/shared/views.js';
import { requestMeta } from '../../http/authenticate.js';
import { findChallenge } from '../../store/repositories/challenges.js';
import { findFactor, listFactorsOfUser } from '../../store/repositories/factors.js';
import { formValue, type PageKit } from '../kit.js';
import type { PromptState } from './factor-prompt.js';

type Auth = PendingAuthentication | AccessAuthentication;

export async function promptState(
  kit: PageKit,
  auth: Auth,
  paths: { action: string; challengeAction: string },
  extra: Partial<PromptState> = {},
): Promise<PromptState> {
  const factors = (await listFactorsOfUser(kit.ctx.db, auth.user.id, 'active')).filter((factor) => kit.ctx.config.factors.has(factor.type)).map(toFactorView);
  return { factors, ...paths, recoveryEnabled: kit.ctx.config.factors.has('recovery'), ...extra };
}

/** The open challenge a re-rendered form still answers (only this session's own). */
export async function challengeState(kit: PageKit, auth: Auth, challengeId: string | undefined): Promise<PromptState['challenge']> {
  if (challengeId === undefined) return undefined;
  const challenge = await findChallenge(kit.ctx.db, challengeId);
  if (challenge === undefined || challenge.session_id !== auth.session.id || challenge.kind !== 'otp') return undefined;
  const factor = await findFactor(kit.ctx.db, challenge.factor_id);
  if (factor === undefined) return undefined;
  return { factorId: factor.id, challengeId: challenge.id, type: factor.type, destination: maskedDestination(factor), resendAfterSeconds: 0 };
}

export async function startPromptChallenge(kit: PageKit, auth: Auth, request: FastifyRequest): Promise<PromptState['challenge']> {
  const factorId = formValue(request, 'factor_id') ?? '';
  const started = await startChallenge(kit.ctx, auth, factorId, requestMeta(request));
  const factor = await findFactor(kit.ctx.db, factorId);
  return {
    factorId,
    challengeId: started.challenge_id,
    type: factor?.type ?? 'sms',
    destination: 'destination' in started ? started.destination : undefined,
    options: 'options' in started ? started.options : undefined,
    resendAfterSeconds: kit.ctx.config.otp.resendIntervalSeconds,
  };
}

/** The proof the form carries: a code (with its challenge), a recovery code, or a passkey answer. */
export function proofFromForm(request: FastifyRequest): VerifySecondFactorInput {
  const rememberDevice = formValue(request, 'remember_device') === '1' ? { remember_device: true } : {};
  return { ...proofFields(request), ...rememberDevice };
}

function proofFields(request: FastifyRequest): VerifySecondFactorInput {
  const recoveryCode = formValue(request, 'recovery_code');
  if (recoveryCode !== undefined) return { recovery_code: recoveryCode };
  const challengeId = formValue(request, 'challenge_id') || undefined;
  const credentialJson = formValue(request, 'credential');
  if (credentialJson !== undefined && credentialJson !== '') {
    let credential: unknown;
    try {
      credential = JSON.parse(credentialJson);
    } catch {
      throw new TwofoldError('invalid_request', 'The passkey answer could not be read. Try again.');
    }
    return { challenge_id: challengeId, credential: credential as VerifySecondFactorInput['credential'] };
  }
  // As typed: the flow reads the code (spaces and dashes allowed) before anything is spent.
  return { challenge_id: challengeId, code: formValue(request, 'code') ?? '' };
}

export function verifyFromForm(kit: PageKit, auth: Auth, request: FastifyRequest) {
  return verifySecondFactor(kit.ctx, auth, proofFromForm(request), requestMeta(request));
}

/** Errors that end the prompt (the sign-in or session is gone) versus ones shown on it. */
export function promptFailure(error: unknown, reply: FastifyReply, expiredTo: string): { message: string } | FastifyReply {
  if (error instanceof TwofoldError && error.code === 'invalid_token') return reply.redirect(expiredTo, 303);
  if (error instanceof TwofoldError) {
    const remaining = error.extensions['attempts_remaining'];
    const suffix = typeof remaining === 'number' && remaining > 0 ? ` ${remaining} attempt${remaining === 1 ? '' : 's'} left.` : '';
    return { message: `${error.message}${suffix}` };
  }
  throw error;
}
