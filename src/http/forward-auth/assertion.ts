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
  /** Identifies the assertion (every Twofold JWT has one); the same assertion is handed out for up to 30 s. */
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

/**
 * Assertions already signed, by session, app and what they say: every request of a protected app
 * is a decision, and a signature per request would cost more than the decision itself. One is
 * handed out again while at least half of its life is left (it says nothing a new one would not).
 */
export interface AssertionCache {
  sign(identity: ForwardAuthIdentity, audience: string): Promise<string>;
}

const reuseSeconds = assertionLifetimeSeconds / 2;
const cacheLimit = 50_000;

export function createAssertionCache(ctx: FlowContext): AssertionCache {
  const cache = new Map<string, { assertion: string; kid: string; until: number }>();
  return {
    async sign(identity, audience) {
      const key = await ctx.keys.currentKey();
      const nowSeconds = Math.floor(ctx.now() / 1000);
      const cacheKey = `${identity.sessionId} ${audience} ${identity.acr} ${identity.amr.join(',')} ${identity.authTime}`;
      const cached = cache.get(cacheKey);
      // A rotated key signs new assertions at once.
      if (cached !== undefined && cached.until > nowSeconds && cached.kid === key.kid) return cached.assertion;
      const assertion = await signAssertion(ctx, identity, audience, key);
      if (cache.size >= cacheLimit) cache.clear();
      cache.set(cacheKey, { assertion, kid: key.kid, until: nowSeconds + reuseSeconds });
      return assertion;
    },
  };
}

/** `audience`: the protected app's origin as the person reached it, e.g. https://app.example.com. */
export async function signAssertion(ctx: FlowContext, identity: ForwardAuthIdentity, audience: string, key?: SigningKey): Promise<string> {
  const iat = Math.floor(ctx.now() / 1000);
  return signerFor(key ?? (await ctx.keys.currentKey()))({
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
