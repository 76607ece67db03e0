// Adding a factor: POST /v1/factors starts it (pending), POST /v1/factors/{id}/verify confirms it
// with a first proof. The same requests serve the first factor of a new account (with the
// mfa_token, where confirming completes the sign-in) and another factor later (with a recent
// access token), so both callers pass their own way of sending.
import type { AuthorizedSend } from './second-factor-proofs.js';
import { pathSegment } from './transport.js';
import type { Enrollment, FactorConfirmationResponse, RegistrationResponseJSON } from './types.js';
import { requireOptions, runPasskeyCeremony, type WebAuthnCeremonies } from './webauthn.js';

/** What to enroll: an authenticator app, a phone (E.164), an e-mail address, or a passkey. */
export type EnrollFactorInput =
  | { type: 'totp'; label?: string }
  | { type: 'sms'; phone: string; label?: string }
  | { type: 'email'; email: string; label?: string }
  | { type: 'webauthn'; label?: string };

/**
 * The first proof of a pending factor: the app's code (TOTP), the code that was sent (SMS /
 * e-mail, with the enrollment's `challenge_id`), or a passkey's registration response.
 */
export type FactorConfirmation = { code: string; challengeId?: string } | { credential: RegistrationResponseJSON; challengeId?: string };

export function enrollFactorWith(send: AuthorizedSend, input: EnrollFactorInput): Promise<Enrollment> {
  return send<Enrollment>({ method: 'POST', path: '/v1/factors', body: input });
}

export function confirmFactorWith(send: AuthorizedSend, factorId: string, confirmation: FactorConfirmation): Promise<FactorConfirmationResponse> {
  const proof = 'credential' in confirmation ? { credential: confirmation.credential } : { code: confirmation.code };
  const body = confirmation.challengeId === undefined ? proof : { ...proof, challenge_id: confirmation.challengeId };
  return send<FactorConfirmationResponse>({ method: 'POST', path: `/v1/factors/${pathSegment(factorId)}/verify`, body });
}

/** Enrolls a passkey in one step: creation options, the WebAuthn prompt, confirmation. */
export async function enrollPasskeyWith(send: AuthorizedSend, webauthn: WebAuthnCeremonies, input: { label?: string }): Promise<FactorConfirmationResponse> {
  const enrollment = await enrollFactorWith(send, { type: 'webauthn', ...(input.label === undefined ? {} : { label: input.label }) });
  const optionsJSON = requireOptions(enrollment.options, 'a passkey enrollment');
  const credential = await runPasskeyCeremony(() => webauthn.startRegistration({ optionsJSON }));
  return confirmFactorWith(send, enrollment.factor_id, { credential, ...(enrollment.challenge_id === undefined ? {} : { challengeId: enrollment.challenge_id }) });
}
