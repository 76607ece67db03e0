// What a token says about how the person authenticated (RFC 8176 `amr`, NIST `acr`), derived from
// the proof alone — never from anything the client asserts. E-mail codes are not an AAL2
// authenticator (NIST SP 800-63B-4): such a session is aal1, without "mfa", and cannot step up.

export type AuthMethod = 'totp' | 'sms' | 'email' | 'webauthn_hardware' | 'webauthn_software' | 'recovery_code' | 'trusted_device';

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

/** The method's own RFC 8176 value ("otp", "hwk", …), without "pwd" and "mfa". */
export function amrValueOf(method: AuthMethod): string {
  return amrValue[method];
}

export function isAal2Method(method: AuthMethod): boolean {
  return method !== 'email' && method !== 'trusted_device';
}

export function amrFor(method: AuthMethod): string[] {
  return isAal2Method(method) ? ['pwd', amrValue[method], 'mfa'] : ['pwd', amrValue[method]];
}

export function acrFor(method: AuthMethod): 'aal1' | 'aal2' {
  return isAal2Method(method) ? 'aal2' : 'aal1';
}
