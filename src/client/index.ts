// twofold/client: a typed, fetch-based client for Twofold's API, for browsers and Node. It imports
// nothing from the server (test/client checks it), and needs only fetch, URL, URLSearchParams,
// Headers and AbortSignal; @simplewebauthn/browser is loaded on the first passkey prompt.
export { createTwofoldClient } from './create-client.js';
export type { LoginInput, PasswordResetInput, RegisterInput, Registration, PageQuery, SecurityEventsQuery, SessionPage, TwofoldClient, TwofoldClientOptions } from './twofold-client.js';
export type { PendingSignIn, SignInResult, VerifyOptions } from './pending-sign-in.js';
export type { ConditionalPasskeySignInOptions, PasskeySignInOptions } from './passkey-sign-in.js';
export type { SecondFactorProof, SignInProof } from './second-factor-proofs.js';
export type { EnrollFactorInput, FactorConfirmation } from './factor-enrollment.js';
export { createMemoryTokenStore, type StoredTokens, type TokenStore } from './token-store.js';
export type { FetchFunction } from './transport.js';
export type { AuthorizedFetch } from './authorized-fetch.js';
export type { DpopOptions } from './dpop.js';
export type { DpopKeyPair, WebCryptoKey } from './dpop-proof.js';
export type { WebAuthnCeremonies } from './webauthn.js';
export {
  StepUpRequiredError,
  TwofoldClientError,
  isTwofoldClientError,
  type ClientErrorCode,
  type ServerErrorCode,
  type TwofoldClientErrorCode,
} from './errors.js';
export type * from './types.js';
