// X-Twofold-Assertion: a short-lived JWT saying who signed in and how, for the app behind the
// proxy, so it need not trust bare headers (a misconfigured proxy could let a client send its own
// Remote-User). Signed with the key ring's current key (the same JWKS as the access tokens), with
// a `typ` of its own so no access-token validator accepts it, and the protected host as audience
// so an assertion for one app is refused by another. Verified by twofold/verify (verifyAssertion).
import { KeyObject } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { generateId } from '../../core/crypto/random.js';
import type { SigningKey } from '../../core/tokens/signing-key.js';
import type { FlowContext } from '../../flows/shared/context.js';
import type { ForwardAuthIdentity } from '../../forward-auth/decide.js';

export const assertionType = 'twofold-assertion+jwt';
export const assertionLifetimeSeconds = 60;

export interface AssertionClaims {
  iss: string;
  aud: string;
  sub: string;
  username: string;
  acr: string;
  amr: readonly string[];
  auth_time: number;
  sid: string;
  /** Unique per assertion (every Twofold JWT has one), so a verifier may refuse a replay. */
  jti: string;
  iat: number;
  exp: number;
}

type Signer = (claims: AssertionClaims) => string;
const signers = new WeakMap<SigningKey, Signer>();

function signerFor(key: SigningKey): Signer {
  let signer = signers.get(key);
  if (signer === undefined) {
    if (key.privateKey === undefined) throw new TypeError(`signing key ${key.kid} has no private part`);
    const pem = KeyObject.from(key.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
    const sign = createSigner({ key: pem, algorithm: key.alg, kid: key.kid, header: { alg: key.alg, typ: assertionType } });
    signer = (claims) => sign({ ...claims });
    signers.set(key, signer);
  }
  return signer;
}

/** `audience`: the protected app's origin as the person reached it, e.g. https://app.example.com. */
export async function signAssertion(ctx: FlowContext, identity: ForwardAuthIdentity, audience: string): Promise<string> {
  const iat = Math.floor(ctx.now() / 1000);
  return signerFor(await ctx.keys.currentKey())({
    iss: ctx.config.issuer,
    aud: audience,
    sub: identity.userId,
    username: identity.username,
    acr: identity.acr,
    amr: identity.amr,
    auth_time: identity.authTime,
    sid: identity.sessionId,
    jti: generateId('jti'),
    iat,
    exp: iat + assertionLifetimeSeconds,
  });
}
