// What a route may demand of the login behind a token (RFC 9470): an assurance level (`acr`),
// authentication methods (`amr`), and a recent authentication (`maxAge` against `auth_time`).
import { acrSatisfies } from '../core/tokens/assurance-levels.js';
import { VerificationError } from './errors.js';
import type { TwofoldAccessClaims } from './claims.js';

export { acrSatisfies };

export interface AuthenticationRequirements {
  /**
   * Acceptable `acr` values. Twofold's levels are ordered aal1 < aal2 < phr < phrh, and a level
   * accepts the stronger ones: requiring "aal2" accepts "phr" too, requiring "phr" (phishing
   * resistant: a passkey) accepts "phrh", and "phrh" (an attested hardware passkey) only itself.
   * Twofold issues "aal2" after a second factor, "aal1" after an e-mail code or a remembered browser,
   * and "phr" / "phrh" after a passkey sign-in that asked for them.
   */
  acr?: string | string[];
  /** Methods that must all appear in `amr` (RFC 8176), e.g. ["hwk"] for a device-bound passkey. */
  amr?: string[];
  /** Seconds since the person last authenticated (`auth_time`), e.g. 300 before a payment. */
  maxAge?: number;
}

/** Throws `insufficient_authentication` naming what is missing, so the client can step up. */
export function enforceAuthenticationRequirements(claims: TwofoldAccessClaims, requirements: AuthenticationRequirements, nowSeconds: number): void {
  const acceptable = requirements.acr === undefined ? undefined : typeof requirements.acr === 'string' ? [requirements.acr] : requirements.acr;
  const acrMissing = acceptable !== undefined && !acrSatisfies(claims.acr, acceptable);
  const amrMissing = requirements.amr !== undefined && !requirements.amr.every((method) => claims.amr.includes(method));
  const tooOld = requirements.maxAge !== undefined && nowSeconds - claims.auth_time > requirements.maxAge;
  if (!acrMissing && !amrMissing && !tooOld) return;
  const reasons = [
    acrMissing ? `an authentication at ${acceptable?.join(' or ')} (this one is ${claims.acr})` : undefined,
    amrMissing ? `the methods ${requirements.amr?.join(', ')} (this login used ${claims.amr.join(', ')})` : undefined,
    tooOld ? `an authentication within the last ${requirements.maxAge} s` : undefined,
  ].filter((reason) => reason !== undefined);
  throw new VerificationError('insufficient_authentication', `This requires ${reasons.join(' and ')}.`, {
    // An amr demand has no RFC 9470 parameter; asking for the strongest level is the closest hint.
    ...(acrMissing || amrMissing ? { acrValues: acceptable ?? ['aal2'] } : {}),
    ...(tooOld ? { maxAge: requirements.maxAge } : {}),
  });
}
