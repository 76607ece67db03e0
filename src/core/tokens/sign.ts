// Minting JWTs. The protected header always carries alg, kid and typ; nothing else. Signing is
// synchronous node:crypto (fast-jwt, one signer per key and token kind): WebCrypto would queue
// each login's mfa_token behind argon2 on the libuv threadpool (tens of milliseconds under login
// load), and jose's builder cost more main-thread time per token than the Ed25519 signature itself.
import { KeyObject } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import type { AccessTokenClaims, MfaTokenClaims, TokenKind } from './claims.js';
import { tokenTypeHeader } from './claims.js';
import type { SigningKey } from './signing-key.js';

type TokenSigner = (claims: AccessTokenClaims | MfaTokenClaims) => string;

const signers = new WeakMap<SigningKey, Partial<Record<TokenKind, TokenSigner>>>();

function signerFor(key: SigningKey, kind: TokenKind): TokenSigner {
  if (key.privateKey === undefined) throw new TypeError(`signing key ${key.kid} has no private part`);
  let perKey = signers.get(key);
  if (perKey === undefined) {
    perKey = {};
    signers.set(key, perKey);
  }
  let signer = perKey[kind];
  if (signer === undefined) {
    const pem = KeyObject.from(key.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
    // The claims carry their own iat and exp; fast-jwt keeps a given iat and adds nothing else.
    const sign = createSigner({ key: pem, algorithm: key.alg, kid: key.kid, header: { alg: key.alg, typ: tokenTypeHeader[kind] } });
    signer = (claims) => sign({ ...claims });
    perKey[kind] = signer;
  }
  return signer;
}

export async function signToken(key: SigningKey, kind: TokenKind, claims: AccessTokenClaims | MfaTokenClaims): Promise<string> {
  return signerFor(key, kind)(claims);
}
