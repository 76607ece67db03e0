// One public key as a synchronous token check (fast-jwt on node:crypto, on the calling thread —
// WebCrypto would queue behind argon2 on the libuv threadpool). Pinned to the key's
// own algorithm, the token kind's `typ`, the exact issuer and audience, with the claims every
// Twofold token carries required. Time (`exp`, `nbf`, `iat`) is left to the caller, which checks
// it against its own clock. Shared by the server and twofold/verify, so both refuse alike.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { createVerifier } from 'fast-jwt';

export interface SignatureCheckOptions {
  /** The public key as a JWK (extra members such as kid and use are ignored). */
  publicJwk: object;
  algorithm: 'EdDSA' | 'ES256';
  typ: string;
  issuer: string;
  audience: string;
}

/** The payload of a token that passed, or a thrown fast-jwt TokenError. */
export type SignatureCheck = (token: string) => Record<string, unknown>;

export function createSignatureCheck(options: SignatureCheckOptions): SignatureCheck {
  const pem = createPublicKey({ key: options.publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  return createVerifier({
    key: pem,
    algorithms: [options.algorithm],
    checkTyp: options.typ,
    allowedIss: options.issuer,
    allowedAud: options.audience,
    // A claim that is absent is not checked by fast-jwt: iss and aud must be present to be matched.
    requiredClaims: ['iss', 'aud', 'exp', 'iat', 'sub', 'sid', 'jti'],
    ignoreExpiration: true,
    ignoreNotBefore: true,
    cache: false,
  }) as SignatureCheck;
}
