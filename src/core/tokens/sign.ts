// Minting JWTs with jose. The protected header always carries alg, kid and typ; nothing else.
import { SignJWT } from 'jose';
import type { AccessTokenClaims, MfaTokenClaims, TokenKind } from './claims.js';
import { tokenTypeHeader } from './claims.js';
import type { SigningKey } from './signing-key.js';

export async function signToken(key: SigningKey, kind: TokenKind, claims: AccessTokenClaims | MfaTokenClaims): Promise<string> {
  if (key.privateKey === undefined) throw new TypeError(`signing key ${key.kid} has no private part`);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: tokenTypeHeader[kind] })
    .sign(key.privateKey);
}
