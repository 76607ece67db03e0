// What a route may demand of the login behind a token (RFC 9470): an assurance level (`acr`),
// authentication methods (`amr`), and a recent authentication (`maxAge` against `auth_time`).
import { VerificationError } from './errors.js';
import type { TwofoldAccessClaims } from './claims.js';

export interface AuthenticationRequirements {
  /**
   * Acceptable `acr` values. NIST levels are ordered: requiring "aal1" accepts "aal2" too.
   * Twofold issues "aal2" after a second factor, "aal1" after an e-mail code or a remembered browser,
   * and "phr" / "phrh" (each meeting "aal2") after a passkey sign-in that asked for them.
   */
  acr?: string | string[];
  /** Methods that must all appear in `amr` (RFC 8176), e.g. ["hwk"] for a device-bound passkey. */
  amr?: string[];
  /** Seconds since the person last authenticated (`auth_time`), e.g. 300 before a payment. */
  maxAge?: number;
}

const nistLevel = /^aal([1-3])$/;
// The OpenID EAP values Twofold gives after a passkey: phishing-resistant (phr), and
// hardware-protected too (phrh) — each two factors, so each meets "aal2"; phrh meets "phr".
const levelOfAcr = (acr: string): string | undefined => (acr === 'phr' || acr === 'phrh' ? '2' : nistLevel.exec(acr)?.[1]);

export function acrSatisfies(tokenAcr: string, acceptable: string[]): boolean {
  if (acceptable.includes(tokenAcr)) return true;
  const tokenLevel = levelOfAcr(tokenAcr);
  return acceptable.some((wanted) => {
    if (wanted === tokenAcr) return true;
    if (wanted === 'phr' && tokenAcr === 'phrh') return true;
    const wantedLevel = nistLevel.exec(wanted)?.[1];
    return tokenLevel !== undefined && wantedLevel !== undefined && tokenLevel >= wantedLevel;
  });
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
