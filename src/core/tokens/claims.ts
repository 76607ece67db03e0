// The two kinds of JWT Twofold issues: the mfa_token and the access token. They differ in `typ` and
// `aud`, so no validator configured for one can accept the other (RFC 8725 §3.11, FL-02/JW-10).
import type { Acr } from './authentication-methods.js';

export type TokenKind = 'access' | 'mfa';

export const tokenTypeHeader: Record<TokenKind, string> = { access: 'at+jwt', mfa: 'mfa+jwt' };

/** The mfa_token: proof of the password step only; can do nothing but finish the second factor. */
export interface MfaTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  sid: string;
  acr: 'aal1';
  amr: ['pwd'];
}

/** RFC 9068 access token with RFC 8176 `amr` and an honest `auth_time`. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  iat: number;
  exp: number;
  jti: string;
  sid: string;
  auth_time: number;
  /**
   * aal2 after a second factor (or a passkey alone with UV); phr / phrh when asked for and true;
   * aal1 after an e-mail code, which NIST does not count as one.
   */
  acr: Acr;
  amr: string[];
  /** DPoP (RFC 9449 §6.1): the RFC 7638 thumbprint of the key the token is bound to. */
  cnf?: { jkt: string };
}

export function mfaAudience(issuer: string): string {
  return `${issuer}/mfa`;
}
