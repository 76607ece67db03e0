// Proofs of a second factor, shared by the sign-in (with the mfa_token) and the step-up (with the
// access token): both end in POST /v1/mfa/verify, and a passkey first asks for a challenge.
import type { ApiRequest } from './transport.js';
import type { Challenge } from './types.js';
import { requireOptions, runPasskeyCeremony, type WebAuthnCeremonies } from './webauthn.js';

/** A second factor the person proves now. */
export type SecondFactorProof =
  /** The code the authenticator app shows; `factorId` picks one app when there are several. */
  | { type: 'totp'; code: string; factorId?: string }
  /** The code sent by SMS or e-mail for `challengeId` (from `challengeFactor`). */
  | { type: 'sent_code'; challengeId: string; code: string }
  /** A passkey of this factor: the SDK fetches a challenge and runs the WebAuthn prompt. */
  | { type: 'passkey'; factorId: string }
  /** One of the recovery codes shown at the first sign-in (each works once). */
  | { type: 'recovery_code'; code: string };

/** Sign-in proofs also include a remembered browser's device token (an aal1 sign-in). */
export type SignInProof = SecondFactorProof | { type: 'device_token'; deviceToken: string };

/** Sends a request with the caller's token (the mfa_token, or the access token for a step-up). */
export type AuthorizedSend = <T>(request: Omit<ApiRequest, 'authorization'>) => Promise<T>;

/** POST /v1/mfa/challenge: sends an SMS / e-mail code, or returns passkey request options. */
export function challengeFactorWith(send: AuthorizedSend, factorId: string): Promise<Challenge> {
  return send<Challenge>({ method: 'POST', path: '/v1/mfa/challenge', body: { factor_id: factorId } });
}

/** The body of POST /v1/mfa/verify for a proof (running the passkey prompt when it is one). */
export async function verificationBodyFor(proof: SignInProof, send: AuthorizedSend, webauthn: WebAuthnCeremonies): Promise<Record<string, unknown>> {
  switch (proof.type) {
    case 'totp':
      return proof.factorId === undefined ? { code: proof.code } : { code: proof.code, factor_id: proof.factorId };
    case 'sent_code':
      return { challenge_id: proof.challengeId, code: proof.code };
    case 'recovery_code':
      return { recovery_code: proof.code };
    case 'device_token':
      return { device_token: proof.deviceToken };
    case 'passkey': {
      const challenge = await challengeFactorWith(send, proof.factorId);
      const optionsJSON = requireOptions(challenge.options, 'a passkey sign-in');
      const credential = await runPasskeyCeremony(() => webauthn.startAuthentication({ optionsJSON }));
      return { challenge_id: challenge.challenge_id, factor_id: proof.factorId, credential };
    }
  }
}
