// POST /v1/passkeys/authenticate: a sign-in with a passkey alone (WA-07..WA-15). In order:
// 1. the body's shape (400 invalid_request, nothing spent);
// 2. the challenge is taken — single use across instances, whatever follows (WA-08);
// 3. the credential's owner is looked up by the credential id, and a guess is spent BEFORE the
//    assertion is evaluated: of the owner's account (the budget the password and the second factor
//    share), and of the client network — an unknown credential id spends the network's guess only
//    and is answered exactly like a wrong assertion (WA-11);
// 4. the assertion is checked by the same function as a passkey second factor
//    (passkey-assertion.ts): origin, RP ID, signature, counter (a regression locks the credential,
//    WA-13), BE unchanged (WA-14), and the user handle must be the owner's id (WA-12);
// 5. only an active, discoverable passkey of an account that is neither locked nor disabled signs
//    in alone (WA-12); without UV the sign-in is refused unless TWOFOLD_PASSKEY_WITHOUT_UV=aal1 (WA-09);
// 6. the counter's compare-and-set, a new session and its first refresh token in one transaction
//    under the user's row; the answer is the token response of any completed login, with acr/amr
//    from authentication-methods.ts (aal2 only with a verified UV; phr/phrh when asked and true).
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { TwofoldError } from '../../errors.js';
import { findUserById, holdUserRow } from '../../store/repositories/users.js';
import { findWebauthnCredentialById } from '../../store/repositories/webauthn-credentials.js';
import { runTransaction } from '../../store/transaction.js';
import { countUserFailureInBackground, lockedError, withGuess, type Guess } from '../budgets/throttle.js';
import { checkStoredPasskeyAssertion } from '../factors/passkey-assertion.js';
import { holdPendingLogin } from '../sessions/credentials-changed.js';
import { insertPendingSession } from '../sessions/pending-session.js';
import { completePendingSession, respondWithTokens } from '../sessions/second-factor.js';
import type { TokenResponse } from '../sessions/tokens.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { requireFactorEnabled } from '../factors/factor-types.js';
import { takeSignInChallenge } from './sign-in-challenge.js';
import { requirePasskeySignInInput } from './sign-in-input.js';

export interface PasskeySignInInput {
  challenge_id: string;
  credential: AuthenticationResponseJSON;
  /** Space-separated acr values the client asks for: "phr", "phrh" (given only when true). */
  acr_values?: string | undefined;
}

export function invalidPasskeyError(): TwofoldError {
  return new TwofoldError('invalid_passkey', 'This passkey was not accepted; try again, or sign in with your password.');
}

function passkeyLockedError(): TwofoldError {
  return new TwofoldError('passkey_locked', 'This passkey is locked because its signature counter went backwards, a sign that it was copied. Remove it from your account and add it again.');
}

export async function completePasskeySignIn(ctx: FlowContext, input: PasskeySignInInput, meta: RequestMeta = {}): Promise<TokenResponse> {
  requireFactorEnabled(ctx, 'webauthn');
  const { challengeId, credential, acrValues } = requirePasskeySignInInput(input);
  const expectedChallenge = await takeSignInChallenge(ctx, challengeId);
  const owner = await findWebauthnCredentialById(ctx.db, credential.id);
  const user = owner === undefined ? undefined : await findUserById(ctx.db, owner.user_id);
  return withGuess(ctx, user?.username, { ...meta, userId: user?.id }, async (guess) => {
    if (owner === undefined || user === undefined || user.disabled_at !== null) return refuse(ctx, guess, meta, undefined);
    // Locked in the database even if the shared store forgot (a Redis restart): still locked.
    if (user.locked_at !== null) throw lockedError();
    const verdict = await checkStoredPasskeyAssertion(ctx, { stored: owner, userId: user.id, credential, expectedChallenge, requireUserVerification: false }, meta);
    if (!verdict.ok) {
      if (verdict.refusal === 'counter_regression') {
        await guess.wrong({ userId: user.id });
        throw passkeyLockedError();
      }
      // A genuine signature of a locked credential: its holder is told why, and nothing is counted.
      if (verdict.refusal === 'locked') throw passkeyLockedError();
      return refuse(ctx, guess, meta, user.id);
    }
    // The user handle of a discoverable credential is the owner's id (never the username).
    if (credential.response.userHandle !== Buffer.from(user.id, 'utf8').toString('base64url')) return refuse(ctx, guess, meta, user.id);
    if (owner.factor_status !== 'active' || owner.discoverable !== 1) {
      throw new TwofoldError('invalid_passkey', 'This passkey cannot sign in on its own (it was added before passkey sign-in); sign in with your password and use it as the second factor.');
    }
    const userVerified = verdict.assertion.userVerified;
    if (!userVerified && ctx.config.webauthn.passkeyWithoutUv === 'refuse') {
      throw new TwofoldError('user_verification_required', 'The passkey did not verify you (no PIN or biometric); allow your device to verify you and try again.');
    }
    const proof = { withPassword: false, userVerified, requestedAcr: acrValues };
    const login = await runTransaction(ctx.db, async (trx) => {
      const held = await holdUserRow(trx, user.id);
      if (held === undefined) return undefined;
      // The counter's compare-and-set: loses to a concurrent use, a lock, or a removal of the passkey.
      if (!(await verdict.claim(trx))) return undefined;
      const start = await insertPendingSession(ctx, trx, { id: user.id, credentials_changed_at: held.credentials_changed_at }, meta);
      const pending = {
        session: { id: start.sessionId, client_id: ctx.config.clientId, credentials_changed_at: held.credentials_changed_at },
        claims: { jti: start.jti },
        user: { id: user.id },
      };
      return { pending, completed: await completePendingSession(ctx, trx, await holdPendingLogin(trx, pending), verdict.method, { proof, meta }) };
    });
    if (login === undefined) return refuse(ctx, guess, meta, user.id);
    return respondWithTokens(ctx, login.pending, login.completed, meta, guess);
  });
}

/** A wrong assertion, or an unknown credential: the guess stays spent, and both read the same. */
async function refuse(ctx: FlowContext, guess: Guess, meta: RequestMeta, userId: string | undefined): Promise<never> {
  await guess.wrong({ userId });
  if (userId !== undefined) countUserFailureInBackground(ctx, userId);
  // Anyone who knows a credential id can cause this: it counts against the cap of others' events.
  ctx.events.record({ type: 'mfa.failed', userId, ip: meta.ip, userAgent: meta.userAgent, anonymous: true, details: { reason: 'wrong_code', method: 'webauthn', passwordless: true } });
  throw invalidPasskeyError();
}
