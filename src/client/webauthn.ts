// The passkey prompts. By default they come from @simplewebauthn/browser, loaded only when a
// passkey is first used: a Node program (or a page) that never touches passkeys neither needs a
// DOM nor downloads that code. Other platforms and tests pass their own ceremonies.
import type * as SimpleWebAuthnBrowserModule from '@simplewebauthn/browser';
import { TwofoldClientError } from './errors.js';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from './types.js';

/**
 * The two WebAuthn ceremonies, with the signatures of `@simplewebauthn/browser`'s
 * `startRegistration` and `startAuthentication` — that module itself satisfies this interface.
 */
export interface WebAuthnCeremonies {
  /** navigator.credentials.create() from JSON options; resolves to the registration response. */
  startRegistration(args: { optionsJSON: PublicKeyCredentialCreationOptionsJSON }): Promise<RegistrationResponseJSON>;
  /**
   * navigator.credentials.get() from JSON options; resolves to the assertion. With
   * `useBrowserAutofill`, conditional mediation: the passkeys are offered in the autofill of an
   * `<input autocomplete="username webauthn">`, and the promise waits until one is picked.
   */
  startAuthentication(args: { optionsJSON: PublicKeyCredentialRequestOptionsJSON; useBrowserAutofill?: boolean }): Promise<AuthenticationResponseJSON>;
  /** Ends the prompt under way (its promise then rejects); without it an aborted sign-in leaves the prompt to the browser. */
  cancelCeremony?(): void;
  /** PublicKeyCredential.isConditionalMediationAvailable(); without it, conditional sign-in is never tried. */
  isConditionalMediationAvailable?(): Promise<boolean>;
}

type SimpleWebAuthnBrowser = typeof SimpleWebAuthnBrowserModule;

interface ConditionalMediationCheck {
  isConditionalMediationAvailable?: () => Promise<boolean>;
}

/** Loads @simplewebauthn/browser on first use (a separate chunk for bundlers that split). */
export function lazyBrowserWebAuthn(): WebAuthnCeremonies {
  let loaded: Promise<SimpleWebAuthnBrowser> | undefined;
  const load = () => (loaded ??= import('@simplewebauthn/browser'));
  return {
    startRegistration: async (args) => (await load()).startRegistration(args),
    startAuthentication: async (args) => (await load()).startAuthentication(args),
    cancelCeremony: () => {
      // Only a prompt that was started can be under way, and starting one loaded the module.
      if (loaded !== undefined) void loaded.then((module) => module.WebAuthnAbortService.cancelCeremony());
    },
    // Asked of the browser directly: the answer must not wait for (or cause) the module's download.
    isConditionalMediationAvailable: async () => {
      const publicKeyCredential = (globalThis as { PublicKeyCredential?: ConditionalMediationCheck }).PublicKeyCredential;
      return publicKeyCredential?.isConditionalMediationAvailable === undefined ? false : publicKeyCredential.isConditionalMediationAvailable();
    },
  };
}

/** Runs a ceremony; a cancelled or failed prompt becomes `passkey_failed` with the original as `cause`. */
export async function runPasskeyCeremony<T>(ceremony: () => Promise<T>): Promise<T> {
  try {
    return await ceremony();
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    throw new TwofoldClientError({ code: 'passkey_failed', detail: `The passkey prompt failed (${name}): ${message}`, cause: error });
  }
}

export function requireOptions<T>(options: T | undefined, what: string): T {
  if (options === undefined) throw new TwofoldClientError({ code: 'invalid_response', detail: `The server sent no WebAuthn options for ${what}.` });
  return options;
}
