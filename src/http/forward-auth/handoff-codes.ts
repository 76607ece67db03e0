// One-time codes of the sign-in handoff between parent domains (single-sign-on.ts). Twofold's
// primary origin issues one for a signed-in session, a target domain and the state the target's
// portal set in the browser; the portal redeems it once and sets its domain's cookie for the same
// session.
//
// What is stored: only the code's SHA-256, in the shared KV store (Redis across instances), with
// the session id, the domain, the state's SHA-256 and the deadline. The threats: a code read from
// a URL (history, a proxy's log) is worth nothing after one use or 60 s — taken in one atomic step,
// so 20 parallel callbacks on any number of instances give one success; a code for one domain is
// refused on another; a code without the browser's own state is refused (login CSRF).
import { sha256Base64url } from '../../core/crypto/digest.js';
import { generateRandomBase64url } from '../../core/crypto/random.js';
import type { FlowContext } from '../../flows/shared/context.js';

export const handoffCodeTtlSeconds = 60;
/** 256 random bits, base64url: the shape of a code and of a state. */
export const handoffTokenShape = /^[A-Za-z0-9_-]{43}$/;

export interface HandoffGrant {
  sessionId: string;
  /** The cookie domain (ForwardAuthDomain.domain) the code may set a cookie for. */
  domain: string;
  /** SHA-256 of the state the target portal bound to the browser. */
  stateHash: string;
  /** Milliseconds on the server's clock. */
  expiresAt: number;
}

const keyOf = (code: string) => `fa-handoff:${sha256Base64url(code)}`;

/** A new code for the grant; only its hash is stored. */
export async function issueHandoffCode(ctx: FlowContext, grant: { sessionId: string; domain: string; state: string }): Promise<string> {
  const code = generateRandomBase64url(32);
  const expiresAt = ctx.now() + handoffCodeTtlSeconds * 1000;
  const stored: HandoffGrant = { sessionId: grant.sessionId, domain: grant.domain, stateHash: sha256Base64url(grant.state), expiresAt };
  await ctx.kv.set(keyOf(code), JSON.stringify(stored), handoffCodeTtlSeconds * 1000);
  return code;
}

/**
 * Takes the code's grant (deleting it in the same step, so a second use finds nothing); undefined
 * for an unknown, used or expired code. The deadline is checked against the server's clock too,
 * not only the store's expiry, so every instance (and a test clock) agrees.
 */
export async function takeHandoffCode(ctx: FlowContext, code: string): Promise<HandoffGrant | undefined> {
  if (!handoffTokenShape.test(code)) return undefined;
  const raw = await ctx.kv.take(keyOf(code));
  if (raw === undefined) return undefined;
  const grant = JSON.parse(raw) as HandoffGrant;
  return grant.expiresAt > ctx.now() ? grant : undefined;
}
