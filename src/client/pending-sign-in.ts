// The "2FA pending" state: the password was right, and the mfa_token it earned can do exactly one
// thing — complete the second factor (or enroll the first one). Completing stores the tokens.
// The mfa_token lives 5 minutes, allows 5 wrong codes, and works once (FL-03): a PendingSignIn is
// spent by the first successful verify or confirmation.
import { TwofoldClientError } from './errors.js';
import { confirmFactorWith, enrollFactorWith, enrollPasskeyWith, type EnrollFactorInput, type FactorConfirmation } from './factor-enrollment.js';
import { challengeFactorWith, verificationBodyFor, type AuthorizedSend, type SignInProof } from './second-factor-proofs.js';
import type { SessionTokens } from './session-tokens.js';
import type { StoredTokens } from './token-store.js';
import type { Transport } from './transport.js';
import type { Challenge, Enrollment, Factor, FactorConfirmationResponse, FactorSummary, SignInTokenResponse } from './types.js';
import type { WebAuthnCeremonies } from './webauthn.js';

/** A completed sign-in; the tokens are already in the token store. */
export interface SignInResult {
  tokens: StoredTokens;
  /** New recovery codes: only when the first factor of an account was confirmed. Shown once — let the person save them. */
  recoveryCodes?: string[];
  /** The factor that was confirmed (confirmFactor, enrollPasskey). */
  factor?: Factor;
  /** With `rememberDevice`: a token that stands in for the second factor at this browser's next sign-in (aal1). */
  deviceToken?: string;
  deviceExpiresInSeconds?: number;
}

export interface VerifyOptions {
  /** Ask for a device token that lets this browser skip the second factor next time (aal1, if the server allows it). */
  rememberDevice?: boolean;
}

/** The state between the password step and the second factor. */
export interface PendingSignIn {
  /** The mfa_token: accepted only by the second-factor and first-enrollment routes. */
  readonly mfaToken: string;
  readonly expiresInSeconds: number;
  /** "verify": prove one of `factors`; "enroll": the account has no active factor yet — enroll one. */
  readonly next: 'verify' | 'enroll';
  /** The account's active factors (masked destinations, nothing secret). */
  readonly factors: FactorSummary[];

  /** Completes the sign-in with any proof; stores and returns the tokens. */
  verify(proof: SignInProof, options?: VerifyOptions): Promise<SignInResult>;
  /** Completes the sign-in with the code the authenticator app shows (as shown: "792 821" is fine; what cannot be a code is `invalid_request` and spends no try). */
  verifyTotpCode(code: string, options?: VerifyOptions & { factorId?: string }): Promise<SignInResult>;
  /** Sends a code to an SMS / e-mail factor (or fetches passkey options); returns the challenge to verify. */
  challengeFactor(factorId: string): Promise<Challenge>;
  /** Sends a new code; the previous one stops working. The server enforces a resend interval (429 with `retryAfterSeconds`). */
  resendCode(factorId: string): Promise<Challenge>;
  /** Completes the sign-in with the code sent for `challengeId`. */
  verifySentCode(challengeId: string, code: string, options?: VerifyOptions): Promise<SignInResult>;
  /** Completes the sign-in with a passkey of this factor (runs the WebAuthn prompt). */
  verifyPasskey(factorId: string, options?: VerifyOptions): Promise<SignInResult>;
  /** Completes the sign-in with a recovery code; that code is then spent. */
  verifyRecoveryCode(code: string): Promise<SignInResult>;
  /** Starts enrolling the account's first factor (only while it has no active one). */
  enrollFactor(input: EnrollFactorInput): Promise<Enrollment>;
  /** Confirms the first factor; this completes the sign-in and returns the recovery codes. */
  confirmFactor(factorId: string, confirmation: FactorConfirmation): Promise<SignInResult>;
  /** Enrolls a passkey as the first factor in one step; completes the sign-in like confirmFactor. */
  enrollPasskey(input?: { label?: string }): Promise<SignInResult>;
}

export interface PendingSignInDependencies {
  transport: Transport;
  sessionTokens: SessionTokens;
  webauthn: WebAuthnCeremonies;
}

export function createPendingSignIn(deps: PendingSignInDependencies, login: { mfa_token: string; expires_in: number; next: 'verify' | 'enroll'; factors: FactorSummary[] }): PendingSignIn {
  const mfaToken = login.mfa_token;
  // Every request of the mfa_token carries a DPoP proof (when the client uses DPoP): two of them
  // issue the session's tokens (mfa/verify, the first factor's confirmation), which the server
  // binds to the proof's key; on the others the proof costs one signature and is ignored.
  const send: AuthorizedSend = (request) => deps.transport.send({ ...request, authorization: { scheme: 'Bearer', token: mfaToken }, dpopProof: true });

  async function verify(proof: SignInProof, options: VerifyOptions = {}): Promise<SignInResult> {
    const body = await verificationBodyFor(proof, send, deps.webauthn);
    const response = await send<SignInTokenResponse>({ method: 'POST', path: '/v1/mfa/verify', body: options.rememberDevice === true ? { ...body, remember_device: true } : body });
    const tokens = await deps.sessionTokens.storeSignIn(response);
    return {
      tokens,
      ...(response.device_token === undefined ? {} : { deviceToken: response.device_token, deviceExpiresInSeconds: response.device_expires_in }),
    };
  }

  async function completeWithConfirmation(response: FactorConfirmationResponse): Promise<SignInResult> {
    const { access_token, refresh_token, expires_in, token_type } = response;
    if (access_token === undefined || refresh_token === undefined || expires_in === undefined || token_type === undefined) {
      throw new TwofoldClientError({ code: 'invalid_response', detail: 'The confirmation completed no sign-in: the server sent no tokens.' });
    }
    const tokens = await deps.sessionTokens.storeSignIn({ access_token, refresh_token, expires_in, token_type });
    return { tokens, factor: response.factor, ...(response.recovery_codes === undefined ? {} : { recoveryCodes: response.recovery_codes }) };
  }

  return {
    mfaToken,
    expiresInSeconds: login.expires_in,
    next: login.next,
    factors: login.factors,
    verify,
    verifyTotpCode: (code, options = {}) => verify({ type: 'totp', code, ...(options.factorId === undefined ? {} : { factorId: options.factorId }) }, options),
    challengeFactor: (factorId) => challengeFactorWith(send, factorId),
    resendCode: (factorId) => challengeFactorWith(send, factorId),
    verifySentCode: (challengeId, code, options) => verify({ type: 'sent_code', challengeId, code }, options),
    verifyPasskey: (factorId, options) => verify({ type: 'passkey', factorId }, options),
    verifyRecoveryCode: (code) => verify({ type: 'recovery_code', code }),
    enrollFactor: (input) => enrollFactorWith(send, input),
    confirmFactor: async (factorId, confirmation) => completeWithConfirmation(await confirmFactorWith(send, factorId, confirmation)),
    enrollPasskey: async (input = {}) => completeWithConfirmation(await enrollPasskeyWith(send, deps.webauthn, input)),
  };
}
