// What a token says about how the person authenticated (RFC 8176 `amr`, NIST `acr`), derived from
// the proof alone — never from anything the client asserts. E-mail codes are not an AAL2
// authenticator (NIST SP 800-63B-4): such a session is aal1, without "mfa", and cannot step up.
//
// A passkey can also sign in alone (no password). It is then two factors in one — something you
// have (the key, proven by its signature) and something you know or are (the PIN or biometric the
// authenticator checked) — but only when the assertion's UV flag was set and its signature verified:
// the flag is signed with the rest of the authenticator data. WebAuthn does not say whether a PIN or
// a biometric was used, so such a token never claims `pin`, `user` or `fpt`: it says `swk`/`hwk`
// plus `mfa`. Without UV it is one factor (aal1, no `mfa`) — if the operator allows it at all.
// `phr` / `phrh` (phishing-resistant, and hardware-protected) are the OpenID EAP ACR values; they
// are given only when asked for (acr_values) and only when true: any passkey with UV is
// phishing-resistant (its signature is bound to the origin); `phrh` needs a proven hardware key.

import { acrSatisfies, isAssuranceLevel, type AssuranceLevel } from './assurance-levels.js';

export type AuthMethod = 'totp' | 'sms' | 'email' | 'webauthn_hardware' | 'webauthn_software' | 'recovery_code' | 'trusted_device';

/** The `acr` values Twofold gives (assurance-levels.ts keeps their order). aal2, phr and phrh all mean "two factors". */
export type Acr = AssuranceLevel;

const amrValue: Record<AuthMethod, string> = {
  totp: 'otp',
  sms: 'sms',
  email: 'email',
  // `hwk` only for a passkey whose registration carried an attestation chained to a root the
  // operator trusts, for a key that cannot leave the device. Every other passkey — synced, held
  // in software, or simply unproven — is `swk`: a key, nothing more is known (assurance is earned, never asserted).
  webauthn_hardware: 'hwk',
  webauthn_software: 'swk',
  // Not in the RFC 8176 registry (which allows other values): a recovery (look-up) code.
  recovery_code: 'rc',
  // Not in the registry either: a browser remembered after an earlier full sign-in. It proves
  // possession of a cookie, not a second factor now, so such a session is aal1 without "mfa".
  trusted_device: 'dev',
};

/** How a sign-in was proven: after a password (the default), or by a passkey alone. */
export interface ProofContext {
  /** A password was verified first (the second-factor flow). */
  withPassword: boolean;
  /** A passkey alone: whether the signed authenticator data carried UV. */
  userVerified?: boolean;
  /** `acr_values` the client asked for (space-separated, as sent). */
  requestedAcr?: string | undefined;
}

const afterPassword: ProofContext = { withPassword: true };

/** The method's own RFC 8176 value ("otp", "hwk", …), without "pwd" and "mfa". */
export function amrValueOf(method: AuthMethod): string {
  return amrValue[method];
}

export function isAal2Method(method: AuthMethod): boolean {
  return method !== 'email' && method !== 'trusted_device';
}

export function isPasskeyMethod(method: AuthMethod): boolean {
  return method === 'webauthn_hardware' || method === 'webauthn_software';
}

/** Two factors: a password and an AAL2 method, or a passkey alone whose UV was verified. */
function isMultiFactor(method: AuthMethod, proof: ProofContext): boolean {
  if (proof.withPassword) return isAal2Method(method);
  return isPasskeyMethod(method) && proof.userVerified === true;
}

export function amrFor(method: AuthMethod, proof: ProofContext = afterPassword): string[] {
  const methods = proof.withPassword ? ['pwd', amrValue[method]] : [amrValue[method]];
  return isMultiFactor(method, proof) ? [...methods, 'mfa'] : methods;
}

export function acrFor(method: AuthMethod, proof: ProofContext = afterPassword): Acr {
  if (!isMultiFactor(method, proof)) return 'aal1';
  const requested = new Set((proof.requestedAcr ?? '').split(' '));
  if (method === 'webauthn_hardware' && requested.has('phrh')) return 'phrh';
  if (isPasskeyMethod(method) && (requested.has('phr') || requested.has('phrh'))) return 'phr';
  return 'aal2';
}

/** Whether a session's acr means two factors (aal2, or the phishing-resistant levels above it). */
export function isAtLeastAal2(acr: string): boolean {
  return acrSatisfies(acr, ['aal2']);
}

/** A stored acr read back (a session row), narrowed to what Twofold gives; anything else reads as aal1. */
export function storedAcr(acr: string): Acr {
  return isAssuranceLevel(acr) ? acr : 'aal1';
}
