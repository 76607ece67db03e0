// Passkey (WebAuthn) factors: registration and authentication challenges stored server-side,
// bound to one factor and one session, single use, 5 minutes (WA-01); the credential must be the
// one registered to this user's factor (WA-04); a signature counter that does not move forward is
// refused, recorded and locks the credential (WA-05, WA-13; passkey-assertion.ts, shared with
// passkey sign-in); a credential id can be registered only once (WA-06). A passkey is
// `hwk` only while what its registration proved — an attestation chained to a root configured
// now, for a key that cannot leave the device — says so; otherwise `swk` (attestation-trust.ts).
// New passkeys are discoverable (residentKey "required"), so they can also sign in alone (WA-07).
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Transaction } from 'kysely';
import { generateId } from '../../core/crypto/random.js';
import { buildAuthenticationOptions, buildRegistrationOptions, checkRegistration, webauthnTimeoutMs, type RelyingParty } from '../../core/webauthn/ceremonies.js';
import { TwofoldError } from '../../errors.js';
import type { ChallengePurpose, ChallengeRow, Database, FactorRow } from '../../store/database.js';
import { isUniqueViolation } from '../../store/connect.js';
import { consumeChallenge, insertChallenge } from '../../store/repositories/challenges.js';
import { activatePendingFactor } from '../../store/repositories/factors.js';
import { findWebauthnCredentialOfFactor, insertWebauthnCredential, listWebauthnCredentialsOfUser } from '../../store/repositories/webauthn-credentials.js';
import { checkStoredPasskeyAssertion, parseTransports, passkeyMethod } from './passkey-assertion.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import type { Proof } from '../sessions/second-factor.js';

export function relyingParty(ctx: FlowContext): RelyingParty {
  return ctx.config.webauthn;
}

async function storeChallenge(ctx: FlowContext, input: { userId: string; factorId: string; sessionId: string; purpose: ChallengePurpose; challenge: string }): Promise<string> {
  const now = ctx.now();
  const challengeId = generateId('chl');
  await insertChallenge(ctx.db, {
    id: challengeId,
    user_id: input.userId,
    factor_id: input.factorId,
    session_id: input.sessionId,
    kind: 'webauthn',
    purpose: input.purpose,
    secret: input.challenge,
    created_at: now,
    expires_at: now + webauthnTimeoutMs,
    used_at: null,
    superseded_at: null,
  });
  return challengeId;
}

/** Creation options for a pending passkey factor, with the user's other passkeys excluded. */
export async function startPasskeyRegistration(ctx: FlowContext, input: { user: { id: string; username: string }; factorId: string; sessionId: string }) {
  const existing = (await listWebauthnCredentialsOfUser(ctx.db, input.user.id)).map((row) => ({ credentialId: row.credential_id, transports: parseTransports(row.transports) }));
  const options = await buildRegistrationOptions(relyingParty(ctx), input.user, existing);
  const challengeId = await storeChallenge(ctx, { userId: input.user.id, factorId: input.factorId, sessionId: input.sessionId, purpose: 'enroll', challenge: options.challenge });
  return { challenge_id: challengeId, expires_in: webauthnTimeoutMs / 1000, options };
}

/** Request options for one active passkey factor. */
export async function startPasskeyAuthentication(ctx: FlowContext, input: { userId: string; factor: FactorRow; sessionId: string; purpose: ChallengePurpose }) {
  const credential = await findWebauthnCredentialOfFactor(ctx.db, input.factor.id);
  if (credential === undefined) throw new TwofoldError('not_found', 'This passkey has no registered credential.');
  const options = await buildAuthenticationOptions(relyingParty(ctx), [{ credentialId: credential.credential_id, transports: parseTransports(credential.transports) }]);
  const challengeId = await storeChallenge(ctx, { userId: input.userId, factorId: input.factor.id, sessionId: input.sessionId, purpose: input.purpose, challenge: options.challenge });
  return { challenge_id: challengeId, expires_in: webauthnTimeoutMs / 1000, options };
}

export type PasskeyCheck = { ok: true; proof: Proof } | { ok: false; reason: 'wrong_code' | 'malformed' };

/** Verifies a registration response against an open enrollment challenge of the factor. */
export async function checkPasskeyRegistration(
  ctx: FlowContext,
  input: { factor: FactorRow; challenge: ChallengeRow; credential: RegistrationResponseJSON },
  meta: RequestMeta,
): Promise<PasskeyCheck> {
  const result = await checkRegistration(relyingParty(ctx), input.credential, input.challenge.secret);
  if (!result.ok) {
    ctx.events.record({ type: 'webauthn.registration_failed', userId: input.factor.user_id, factorId: input.factor.id, ip: meta.ip, userAgent: meta.userAgent, details: { reason: result.reason.slice(0, 200) } });
    return { ok: false, reason: 'wrong_code' };
  }
  const now = ctx.now();
  return {
    ok: true,
    proof: {
      method: passkeyMethod(ctx, result),
      async claim(trx: Transaction<Database>) {
        if (!(await consumeChallenge(trx, input.challenge.id, now))) return false;
        try {
          await insertWebauthnCredential(trx, {
            factor_id: input.factor.id,
            credential_id: result.credentialId,
            public_key: result.publicKey,
            sign_count: result.signCount,
            transports: JSON.stringify(result.transports),
            device_type: result.backupEligible ? 'multiDevice' : 'singleDevice',
            backed_up: result.backedUp ? 1 : 0,
            created_at: now,
            attestation_format: result.attestationFormat,
            attestation_root_sha256: result.attestationRootSha256,
            aaguid: result.aaguid,
            discoverable: result.discoverable ? 1 : 0,
            locked_at: null,
          });
        } catch (error) {
          if (isUniqueViolation(error)) throw new TwofoldError('invalid_request', 'This passkey is already registered.');
          throw error;
        }
        return activatePendingFactor(trx, input.factor.id, now);
      },
    },
  };
}

/** Verifies an assertion against an open login/step-up challenge of the factor. */
export async function checkPasskeyAssertion(
  ctx: FlowContext,
  input: { factor: FactorRow; challenge: ChallengeRow; credential: AuthenticationResponseJSON },
  meta: RequestMeta,
): Promise<PasskeyCheck> {
  const stored = await findWebauthnCredentialOfFactor(ctx.db, input.factor.id);
  // The assertion must come from the credential registered to this very factor (WA-04).
  if (stored === undefined || stored.credential_id !== input.credential.id) return { ok: false, reason: 'wrong_code' };
  const verdict = await checkStoredPasskeyAssertion(ctx, { stored, userId: input.factor.user_id, credential: input.credential, expectedChallenge: input.challenge.secret, requireUserVerification: true }, meta);
  // As a second factor every refusal reads alike: the code is wrong (WA-05, WA-13, WA-14).
  if (!verdict.ok) return { ok: false, reason: 'wrong_code' };
  const now = ctx.now();
  return {
    ok: true,
    proof: {
      method: verdict.method,
      async claim(trx) {
        if (!(await consumeChallenge(trx, input.challenge.id, now))) return false;
        return verdict.claim(trx);
      },
    },
  };
}
