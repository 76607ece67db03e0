// Sign in with a passkey alone (no username, no password): the server's options carry an empty
// allowCredentials, so the browser offers every passkey it holds for this site, and the one picked
// names its account by its user handle. User verification is required, which makes the one gesture
// two factors. With `mediation: "conditional"` the browser shows the passkeys in the username
// field's autofill instead of a dialog, and the request waits until one is picked — or until the
// page aborts it because the person typed a password instead.
import { TwofoldClientError } from './errors.js';
import type { SignInResult } from './pending-sign-in.js';
import type { SessionTokens } from './session-tokens.js';
import type { Transport } from './transport.js';
import type { PublicKeyCredentialRequestOptionsJSON, SignInTokenResponse } from './types.js';
import { requireOptions, runPasskeyCeremony, type WebAuthnCeremonies } from './webauthn.js';

export interface PasskeySignInOptions {
  /**
   * "optional" (default): the browser's passkey dialog now. "conditional": the passkeys appear in the
   * autofill of an `<input autocomplete="username webauthn">`, and the call waits for a pick.
   */
  mediation?: 'optional' | 'conditional';
  /**
   * Assurance levels to ask for, e.g. ["phr"]: a passkey is phishing resistant, and the access
   * token then says `acr: "phr"` (`"phrh"` only for a passkey whose attestation proved a hardware
   * key). Without it the token says "aal2", like every two-factor sign-in.
   */
  acrValues?: string[];
  /** Ends the attempt (the prompt included): the call then throws `aborted`. */
  signal?: AbortSignal;
}

export interface ConditionalPasskeySignInOptions {
  /** Abort when the person signs in another way (say, submits the password form). */
  signal?: AbortSignal;
  acrValues?: string[];
}

interface AuthenticationOptionsResponse {
  challenge_id: string;
  expires_in: number;
  options?: PublicKeyCredentialRequestOptionsJSON;
}

export interface PasskeySignInDependencies {
  transport: Transport;
  sessionTokens: SessionTokens;
  webauthn: WebAuthnCeremonies;
}

function abortedError(signal: AbortSignal): TwofoldClientError {
  return new TwofoldClientError({ code: 'aborted', detail: 'The passkey sign-in was aborted.', cause: signal.reason });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortedError(signal);
}

/**
 * Runs the prompt until it resolves or `signal` aborts it. An abort cancels the browser's request
 * (a conditional one would otherwise hold the autofill until the page is left) and wins over
 * whatever error the cancelled prompt then reports.
 */
async function promptUnlessAborted<T>(webauthn: WebAuthnCeremonies, prompt: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return runPasskeyCeremony(prompt);
  if (signal.aborted) throw abortedError(signal);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      webauthn.cancelCeremony?.();
      reject(abortedError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([runPasskeyCeremony(prompt), aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

/** POST /v1/passkeys/authenticate/options, the prompt, POST /v1/passkeys/authenticate; stores the tokens. */
export async function signInWithPasskeyUsing(deps: PasskeySignInDependencies, options: PasskeySignInOptions = {}): Promise<SignInResult> {
  const { signal } = options;
  throwIfAborted(signal);
  const started = await deps.transport.send<AuthenticationOptionsResponse>({ method: 'POST', path: '/v1/passkeys/authenticate/options', body: {} });
  const optionsJSON = requireOptions(started.options, 'a passkey sign-in');
  const useBrowserAutofill = options.mediation === 'conditional';
  const credential = await promptUnlessAborted(deps.webauthn, () => deps.webauthn.startAuthentication({ optionsJSON, useBrowserAutofill }), signal);
  // Aborted just as the prompt answered: the person chose another way, so no session is made.
  throwIfAborted(signal);
  const acrValues = options.acrValues?.filter((value) => value !== '') ?? [];
  const response = await deps.transport.send<SignInTokenResponse>({
    method: 'POST',
    path: '/v1/passkeys/authenticate',
    // The session's tokens come from here: bound to the proof's key when the client uses DPoP.
    dpopProof: true,
    body: { challenge_id: started.challenge_id, credential, ...(acrValues.length === 0 ? {} : { acr_values: acrValues.join(' ') }) },
  });
  return { tokens: await deps.sessionTokens.storeSignIn(response) };
}

/**
 * Offers the passkeys in the username field's autofill, if the browser can; resolves to the sign-in
 * once one is picked, or to undefined when the browser cannot (show a "Sign in with a passkey"
 * button instead) or `signal` was aborted (the person signed in another way).
 */
export async function startConditionalPasskeySignInUsing(deps: PasskeySignInDependencies, options: ConditionalPasskeySignInOptions = {}): Promise<SignInResult | undefined> {
  if (!(await conditionalMediationAvailable(deps.webauthn))) return undefined;
  try {
    return await signInWithPasskeyUsing(deps, { ...options, mediation: 'conditional' });
  } catch (error) {
    if (error instanceof TwofoldClientError && error.code === 'aborted') return undefined;
    throw error;
  }
}

async function conditionalMediationAvailable(webauthn: WebAuthnCeremonies): Promise<boolean> {
  try {
    return webauthn.isConditionalMediationAvailable === undefined ? false : await webauthn.isConditionalMediationAvailable();
  } catch {
    // A browser whose check throws cannot be relied on to show the autofill either.
    return false;
  }
}
