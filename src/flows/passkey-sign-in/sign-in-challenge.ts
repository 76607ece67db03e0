// The challenge of a passkey sign-in (WA-08). No one is known yet when it is asked for, so it is
// bound to nothing but itself: kept in the shared key-value store (Redis across instances, memory
// otherwise) under a random id, for 5 minutes like every WebAuthn challenge (WA-01), and taken —
// read and deleted in one atomic step — by the first answer, so it is single use across instances
// whatever the answer turns out to be. It is kept a minute past its expiry so that a late answer is
// told "expired" rather than "unknown"; the expiry itself is checked on Twofold's clock.
import { generateId } from '../../core/crypto/random.js';
import { webauthnTimeoutMs } from '../../core/webauthn/ceremonies.js';
import { TwofoldError } from '../../errors.js';
import type { FlowContext } from '../shared/context.js';

const keyOf = (challengeId: string) => `passkey-sign-in:challenge:${challengeId}`;
const keptAfterExpiryMs = 60_000;
const challengeIdShape = /^chl_[A-Za-z0-9_-]{1,64}$/;

interface StoredChallenge {
  challenge: string;
  expiresAt: number;
}

/** Stores the challenge of new request options; returns its id. */
export async function storeSignInChallenge(ctx: FlowContext, challenge: string): Promise<string> {
  const challengeId = generateId('chl');
  const stored: StoredChallenge = { challenge, expiresAt: ctx.now() + webauthnTimeoutMs };
  await ctx.kv.set(keyOf(challengeId), JSON.stringify(stored), webauthnTimeoutMs + keptAfterExpiryMs);
  return challengeId;
}

export function invalidChallengeError(): TwofoldError {
  return new TwofoldError('invalid_challenge', 'No open passkey challenge with that id (unknown, or already answered); ask for new options.');
}

/**
 * Takes the challenge (single use): its value, or invalid_challenge (unknown or already answered,
 * WA-08) / challenge_expired (WA-08). Either way the id can never be answered again.
 */
export async function takeSignInChallenge(ctx: FlowContext, challengeId: string): Promise<string> {
  if (!challengeIdShape.test(challengeId)) throw invalidChallengeError();
  const raw = await ctx.kv.take(keyOf(challengeId));
  if (raw === undefined) throw invalidChallengeError();
  const stored = JSON.parse(raw) as StoredChallenge;
  if (stored.expiresAt <= ctx.now()) throw new TwofoldError('challenge_expired', 'This passkey challenge has expired; ask for new options.');
  return stored.challenge;
}
