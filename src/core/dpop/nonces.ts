// Server-provided DPoP nonces (RFC 9449 §8) without per-nonce state: a nonce is an HMAC of the
// current time step, so every instance sharing the secret issues and accepts the same nonces, and
// a nonce lives one to two windows (the current and the previous one are accepted, so a nonce
// issued just before a step boundary still works for one more window).
//
// The secret: a server-wide secret identical on every instance — the wiring loads one named e.g.
// 'dpop-nonce' with loadOrCreateServerSecret (src/flows/keys/server-secrets.ts), sealed in the
// database like the code pepper; a dedicated name, not the pepper itself.
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../crypto/constant-time.js';

export interface DpopNonceOptions {
  secret: Buffer;
  windowSeconds: number;
  /** Milliseconds, the caller's clock. */
  now: () => number;
}

export interface DpopNonces {
  issue(): string;
  /** True for a nonce of the current or the previous window. */
  check(nonce: string): boolean;
}

const maxNonceLength = 128;

export function createDpopNonces(options: DpopNonceOptions): DpopNonces {
  if (options.secret.length < 32) throw new Error('the DPoP nonce secret must have at least 32 bytes');
  if (!Number.isInteger(options.windowSeconds) || options.windowSeconds < 1) throw new Error('windowSeconds must be a positive integer');
  const windowMs = options.windowSeconds * 1000;
  const step = (): number => Math.floor(options.now() / windowMs);
  const nonceFor = (counter: number): string => createHmac('sha256', options.secret).update(`twofold-dpop-nonce:${counter}`, 'utf8').digest('base64url');
  return {
    issue: () => nonceFor(step()),
    check(nonce) {
      if (typeof nonce !== 'string' || nonce.length > maxNonceLength) return false;
      const current = step();
      // Both compared, always: the time taken does not say which window matched.
      const matchesCurrent = constantTimeEqual(nonce, nonceFor(current));
      const matchesPrevious = constantTimeEqual(nonce, nonceFor(current - 1));
      return matchesCurrent || matchesPrevious;
    },
  };
}
