// The API's JSON shapes, written by hand from the route schemas (src/http/schemas/common.ts and
// src/http/routes/*.ts) instead of imported from them: the schemas are runtime TypeBox values, and
// importing them would drag the server's code into a browser bundle. test/client checks that this
// folder imports nothing from the rest of src.
//
// Objects the server describes (users, factors, sessions, enrollments, challenges) reach the
// caller unchanged, in the API's snake_case, so the README's API table documents them too. Only
// what the SDK manages for the caller (tokens, the pending sign-in) has camelCase shapes of its own.
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/browser';

export type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON };

/** ISO 8601 date-time text, e.g. "2026-11-29T12:00:10.000Z". */
export type IsoTime = string;

export type FactorType = 'totp' | 'sms' | 'email' | 'webauthn';

export interface User {
  id: string;
  username: string;
  email: string | null;
  /** Whether the owner of `email` proved it; until then it receives nothing but a verification mail. */
  email_verified: boolean;
  phone: string | null;
  created_at: IsoTime;
}

/** A factor as the login answer lists it: enough to offer a choice, nothing secret. */
export interface FactorSummary {
  id: string;
  type: FactorType | (string & {});
  label: string | null;
  /** The masked phone or address of an SMS / e-mail factor. */
  destination: string | null;
}

export interface Factor extends FactorSummary {
  status: 'pending' | 'active' | (string & {});
  created_at: IsoTime;
  activated_at: IsoTime | null;
  last_used_at: IsoTime | null;
}

export interface Session {
  id: string;
  created_at: IsoTime;
  auth_time: IsoTime | null;
  acr: string;
  amr: string[];
  last_active_at: IsoTime;
  idle_expires_at: IsoTime;
  expires_at: IsoTime;
  ip: string | null;
  user_agent: string | null;
}

/** An entry of GET /v1/sessions: `current` marks the session of the caller's token. */
export interface SessionListEntry extends Session {
  current: boolean;
}

/** GET /v1/me. */
export interface Me {
  user: User;
  factors: Factor[];
  recovery_codes_remaining: number;
  /** False once the account went passwordless (it signs in with a passkey alone). */
  has_password: boolean;
  session: Session;
}

/** The authenticator-app secret created at registration (shown once). */
export interface TotpEnrollment {
  factor_id: string;
  type: 'totp';
  label: string | null;
  status: 'pending';
  secret: string;
  /** otpauth://totp/… for authenticator apps. */
  otpauth_uri: string;
  /** The otpauth URI as an SVG QR code. */
  qr_svg: string;
}

/**
 * POST /v1/factors: a pending factor. TOTP: `secret`, `otpauth_uri`, `qr_svg`. SMS / e-mail: a code
 * was sent (`destination`, `challenge_id`, `expires_in`). Passkey: `challenge_id` and the creation
 * `options` for the authenticator.
 */
export interface Enrollment {
  factor_id: string;
  type: FactorType | (string & {});
  label: string | null;
  status: 'pending';
  secret?: string;
  otpauth_uri?: string;
  qr_svg?: string;
  destination?: string;
  challenge_id?: string;
  expires_in?: number;
  options?: PublicKeyCredentialCreationOptionsJSON;
  /** SMS: why an app or a passkey is the stronger choice. */
  notice?: string;
}

/** POST /v1/mfa/challenge: a code was sent (SMS / e-mail), or passkey request options. */
export interface Challenge {
  challenge_id: string;
  expires_in: number;
  destination?: string;
  options?: PublicKeyCredentialRequestOptionsJSON;
}

/** The OAuth 2.0 token response of sign-ins and refreshes. */
export interface TokenResponse {
  access_token: string;
  /** "DPoP" when the token is bound to the client's DPoP key (RFC 9449 §5). */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  refresh_token: string;
}

/** POST /v1/mfa/verify with an mfa_token; `device_token` when asked to remember the browser. */
export interface SignInTokenResponse extends TokenResponse {
  device_token?: string;
  device_expires_in?: number;
}

/** POST /v1/mfa/verify with an access token (step-up): a new access token, same refresh token. */
export interface StepUpTokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
}

/** POST /v1/factors/{id}/verify: with an mfa_token the tokens and recovery codes come along. */
export interface FactorConfirmationResponse extends Partial<TokenResponse> {
  factor: Factor;
  recovery_codes?: string[];
}

export interface RegisterResponse {
  user: User;
  mfa_token: string;
  expires_in: number;
  next: 'enroll';
  totp: TotpEnrollment;
}

export interface LoginResponse {
  mfa_token: string;
  expires_in: number;
  next: 'verify' | 'enroll';
  factors: FactorSummary[];
}

/**
 * GET /v1/trusted-devices: a browser remembered at a sign-in (`rememberDevice`). Until it expires or
 * is forgotten, its device token stands in for the second factor there, as aal1.
 */
export interface TrustedDevice {
  id: string;
  /** The browser's User-Agent at the sign-in that remembered it. */
  label: string | null;
  created_at: IsoTime;
  expires_at: IsoTime;
  last_used_at: IsoTime | null;
}

/** GET /v1/me/events: something that happened to the account — what, when and from where, never a secret. */
export interface SecurityEvent {
  id: string;
  /** E.g. "login.completed", "login.password_failed", "password.reset", "trusted_device.revoked". */
  type: string;
  created_at: IsoTime;
  ip: string | null;
  user_agent: string | null;
  /** Non-secret details: reasons, counts, ids. */
  details: Record<string, unknown>;
  /** How many identical events close together this entry stands for (1 unless repeated). */
  count: number;
  /** When the last of them happened; null when it happened once. */
  last_at: IsoTime | null;
}

/**
 * A page of GET /v1/me/events, newest first. `next_before` goes into the next call as `before`;
 * null means this was the last page. A full page always has one, so the page after it may be empty.
 */
export interface SecurityEventPage {
  events: SecurityEvent[];
  next_before: string | null;
}

/** RFC 9457 problem document, as every error answer of the API carries it. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  [extension: string]: unknown;
}
