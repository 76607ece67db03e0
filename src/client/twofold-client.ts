// The public face of the client SDK: its options and its methods. The implementation is in
// create-client.ts; this file is the contract an app codes against.
import type { AuthorizedFetch } from './authorized-fetch.js';
import type { DpopOptions } from './dpop.js';
import type { EnrollFactorInput, FactorConfirmation } from './factor-enrollment.js';
import type { ConditionalPasskeySignInOptions, PasskeySignInOptions } from './passkey-sign-in.js';
import type { PendingSignIn, SignInResult } from './pending-sign-in.js';
import type { SecondFactorProof } from './second-factor-proofs.js';
import type { StoredTokens, TokenStore } from './token-store.js';
import type { FetchFunction } from './transport.js';
import type { Challenge, Enrollment, Factor, Me, SecurityEventPage, SessionListEntry, TotpEnrollment, TrustedDevice, User } from './types.js';
import type { WebAuthnCeremonies } from './webauthn.js';

export interface TwofoldClientOptions {
  /** Where Twofold serves its API, e.g. "https://auth.example.com" (a path prefix is kept). */
  baseUrl: string;
  /** A fetch implementation; default: the global `fetch`. */
  fetch?: FetchFunction;
  /** Where the session's tokens live; default: memory only (see createMemoryTokenStore). */
  tokenStore?: TokenStore;
  /** The passkey prompts; default: @simplewebauthn/browser, loaded on first use. */
  webauthn?: WebAuthnCeremonies;
  /** The client's clock in milliseconds since the epoch; default: Date.now. */
  now?: () => number;
  /** Refresh the access token when less than this is left before it expires; default 30. */
  refreshLeewaySeconds?: number;
  /** Abandon a request without an answer after this long (error code `timeout`); default 30 000, 0 for never. */
  requestTimeoutMs?: number;
  /**
   * How long one refresh attempt waits for its answer before it is retried with the same refresh
   * token; default 3 000, never more than `requestTimeoutMs`; 0 for `requestTimeoutMs`.
   */
  refreshAttemptTimeoutMs?: number;
  /**
   * A refresh whose answer was lost (network error, timeout, 5xx) is retried with the same token
   * while less than this has passed since its first attempt; default 8 000, 0 never retries. Keep
   * it below the server's `TWOFOLD_REFRESH_REUSE_GRACE_SECONDS` (10 s by default): a retry that
   * arrives after the grace counts as reuse and ends the session.
   */
  refreshRetryWindowMs?: number;
  /**
   * DPoP (RFC 9449): bind the session's tokens to a key pair only this client holds, so a stolen
   * access or refresh token is useless without it. `true`: an ES256 key made by the SDK, its
   * private key non-extractable, kept in IndexedDB in a browser (the same key after a reload) and
   * in memory elsewhere; or `{ keyPair }` (the app's own), `{ store: 'memory' }`. Every token
   * request and every request with a bound token then carries a proof. Default: off (Bearer tokens).
   */
  dpop?: boolean | DpopOptions;
}

export interface RegisterInput {
  username: string;
  password: string;
  email?: string;
  /** E.164, e.g. "+14155550123". */
  phone?: string;
}

export interface LoginInput {
  username: string;
  password: string;
}

export interface PasswordResetInput {
  username: string;
  /** The code sent by requestPasswordReset (e-mail, or SMS to a verified phone). */
  code: string;
  newPassword: string;
}

/** A page of a list: at most `limit` entries (1 to 100), after the `next_before` of the previous page. */
export interface PageQuery {
  limit?: number;
  before?: string;
}

/** A page of GET /v1/sessions; `next_before` is null after the last page. */
export interface SessionPage {
  sessions: SessionListEntry[];
  next_before: string | null;
}

export interface SecurityEventsQuery {
  /** Events per page, 1 to 100; default 20. */
  limit?: number;
  /** The `next_before` of the previous page: only events older than that one. */
  before?: string;
}

/** A new account: its user, the authenticator-app secret to confirm, and the pending sign-in to confirm it with. */
export interface Registration {
  user: User;
  /** Show `qr_svg` (or `secret`), then `pending.confirmFactor(totp.factor_id, { code })` with the app's first code. */
  totp: TotpEnrollment;
  /** Holds the mfa_token; confirming a first factor through it completes the sign-in. */
  pending: PendingSignIn;
}

/**
 * A Twofold client. Methods that act as the signed-in person use the stored access token,
 * refresh it before it expires (one refresh at a time, whatever the number of callers) and retry
 * once after the server refused an outdated token. Failures throw TwofoldClientError; a change
 * that needs a recent second factor throws StepUpRequiredError (prove one with `stepUp`, retry).
 */
export interface TwofoldClient {
  /** POST /v1/register: creates the account. No tokens yet: the second factor comes first. */
  register(input: RegisterInput): Promise<Registration>;
  /** POST /v1/login: checks the password; returns the pending sign-in, never tokens (LG-07). */
  login(input: LoginInput): Promise<PendingSignIn>;
  /**
   * Signs in with a passkey alone — no username, no password: the browser offers the site's
   * passkeys, the one picked names the account, and its user verification makes it two factors
   * (aal2; `acrValues: ["phr"]` for a token that says phishing resistant). Stores the tokens.
   * A cancelled prompt is `passkey_failed`, an aborted `signal` is `aborted`; the server refuses a
   * passkey it does not accept with `invalid_passkey`, one that skipped user verification with
   * `user_verification_required`, a cloned-looking one with `passkey_locked`, and a challenge
   * answered too late with `challenge_expired` (start again).
   */
  signInWithPasskey(options?: PasskeySignInOptions): Promise<SignInResult>;
  /**
   * Passkeys in the username field's autofill (conditional mediation): call it when the sign-in
   * page loads, with an `<input autocomplete="username webauthn">` on it, and abort `signal` when
   * the person submits the password form instead. Resolves to the sign-in once a passkey is
   * picked; to undefined when the browser has no conditional mediation or the signal aborted it.
   */
  startConditionalPasskeySignIn(options?: ConditionalPasskeySignInOptions): Promise<SignInResult | undefined>;

  /** The stored tokens, or undefined when signed out. */
  getTokens(): Promise<StoredTokens | undefined>;
  /**
   * Rotates the refresh token now. Concurrent calls share one request and resolve to the same
   * tokens; a lost answer is retried with the same token within `refreshRetryWindowMs`.
   */
  refreshTokens(): Promise<StoredTokens>;
  /** Ends this session on the server and forgets the tokens (also when the server could not be told). */
  logout(): Promise<void>;

  /**
   * fetch for the app's own APIs (any absolute http(s) URL) with the access token, refreshed first
   * when it is about to expire. A DPoP-bound token goes as `Authorization: DPoP …` with a proof for
   * this method and URL; a `use_dpop_nonce` answer is retried once with the server's nonce. The
   * answer is returned as it is (a 401 included); throws `not_signed_in` without tokens.
   */
  authorizedFetch: AuthorizedFetch;
  /** The RFC 7638 thumbprint of the client's DPoP public key (the `cnf.jkt` of bound tokens); undefined without `dpop`. */
  dpopThumbprint(): Promise<string | undefined>;

  /** GET /v1/me: the user, their factors, and this session. */
  getMe(): Promise<Me>;

  /** GET /v1/factors (never a secret). */
  listFactors(): Promise<Factor[]>;
  /** POST /v1/factors: starts adding a factor (needs a recent second factor: may throw StepUpRequiredError). */
  enrollFactor(input: EnrollFactorInput): Promise<Enrollment>;
  /** POST /v1/factors/{id}/verify: activates a pending factor with its first proof. */
  confirmFactor(factorId: string, confirmation: FactorConfirmation): Promise<Factor>;
  /** Adds a passkey in one step: options, the WebAuthn prompt, confirmation. */
  enrollPasskey(input?: { label?: string }): Promise<Factor>;
  /** PATCH /v1/factors/{id}: sets or clears the label. */
  renameFactor(factorId: string, label: string | null): Promise<Factor>;
  /** DELETE /v1/factors/{id}: removes a factor (never the last active one; an active one needs a recent second factor). */
  removeFactor(factorId: string): Promise<void>;

  /** POST /v1/mfa/challenge with the access token: sends a code (SMS / e-mail) for a step-up, or fetches passkey options. */
  challengeFactor(factorId: string): Promise<Challenge>;
  /**
   * Proves a second factor now (RFC 9470 step-up) and stores the new access token, whose
   * session then counts as recently authenticated: retry the call that threw StepUpRequiredError.
   */
  stepUp(proof: SecondFactorProof): Promise<StoredTokens>;

  /**
   * GET /v1/sessions: where this person is signed in, newest sign-in first, one page (50 unless
   * `limit` says fewer); `current` marks this session. For the next page use listSessionsPage.
   */
  listSessions(query?: PageQuery): Promise<SessionListEntry[]>;
  /** GET /v1/sessions as a page: pass `next_before` as `before` for the next one (null: no more). */
  listSessionsPage(query?: PageQuery): Promise<SessionPage>;
  /** DELETE /v1/sessions/{id}: ends a session (another than this one needs a recent second factor). */
  revokeSession(sessionId: string): Promise<void>;
  /** DELETE /v1/sessions: ends every session but this one (needs a recent second factor); returns how many ended. */
  revokeOtherSessions(): Promise<number>;

  /** POST /v1/recovery-codes: new recovery codes (the old ones stop working); needs a recent second factor. */
  regenerateRecoveryCodes(): Promise<string[]>;
  /**
   * POST /v1/password: needs the current password and a recent second factor; the other sessions
   * end. A passwordless account (`getMe().has_password === false`) sets one with no current password.
   */
  changePassword(input: { currentPassword?: string; newPassword: string }): Promise<void>;
  /**
   * DELETE /v1/password: go passwordless — needs a recent second factor and two passkeys, or one
   * and unused recovery codes (else `passwordless_not_allowed`); the other sessions end.
   */
  removePassword(): Promise<void>;

  /**
   * POST /v1/email/verify: proves an address with the token of the link mailed to it (the `token`
   * parameter of `/verify-email?token=…`). Single use, bound to the account and the address; a
   * wrong, used or expired token, or one for an address changed since, is `invalid_code`. Sends no token.
   */
  verifyEmail(input: { token: string }): Promise<void>;
  /** POST /v1/me/email/verification: a new link to the caller's unverified address (at most one a minute). */
  requestEmailVerification(): Promise<string>;
  /**
   * PUT /v1/me/email: a new address, unverified until its owner follows the link mailed to it. Needs
   * a second factor from the last 5 minutes (`StepUpRequiredError` otherwise).
   */
  changeEmail(input: { email: string }): Promise<User>;

  /**
   * POST /v1/password/forgot: asks for a reset code, sent to the account's verified e-mail address
   * (else to the phone of its SMS factor). Returns the server's message, the same whether or not the account
   * exists or has somewhere to send the code (MG-01): show it as it is. Sends no token.
   */
  requestPasswordReset(input: { username: string }): Promise<string>;
  /**
   * POST /v1/password/reset: sets a new password with the code from requestPasswordReset. It signs
   * nobody in and returns no tokens: sign in afterwards with `login`, which still needs the second
   * factor (MG-01). The server ends every session of the account and forgets its remembered
   * browsers; tokens stored here are left as they are, and the next authenticated call finds them
   * refused (and then clears them). A wrong, used or expired code is `invalid_code`; one that cannot
   * be a reset code (typed in any case, with or without spaces or dashes) is `invalid_request` and
   * spends no try; a new password
   * the policy refuses is `weak_password` (the reasons are in `problem.reasons`). Sends no token.
   */
  resetPassword(input: PasswordResetInput): Promise<void>;

  /** GET /v1/trusted-devices: the browsers remembered at a sign-in that are still valid. */
  listTrustedDevices(): Promise<TrustedDevice[]>;
  /** DELETE /v1/trusted-devices/{id}: forgets a remembered browser; its device token stops working (`not_found` for an unknown id). */
  forgetTrustedDevice(deviceId: string): Promise<void>;

  /**
   * GET /v1/me/events: one page of the account's security events, newest first. For the next page,
   * pass the answer's `next_before` as `before`; it is null after the last page.
   */
  listSecurityEvents(query?: SecurityEventsQuery): Promise<SecurityEventPage>;
}
