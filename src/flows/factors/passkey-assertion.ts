// One check of a passkey assertion against a stored credential, for both places a passkey is
// used — as the second factor after a password, and alone (passkey sign-in) — so a rule added here
// holds for both:
// - the library verifies origin, RP ID, challenge, UP, the signature and the counter;
// - a genuinely signed assertion whose counter did not move forward (and is not constantly 0) is
//   a cloned-authenticator signal (WA-05): refused, the credential LOCKED until its owner removes
//   it, and a `webauthn.counter_regression` event recorded (WA-13); a forged one only fails;
// - a locked credential is refused, after its signature verified (only its holder learns why);
// - BE is fixed for a credential's life (WebAuthn §6.1.3): an assertion whose BE differs from the
//   registration's is refused as a bad assertion (WA-14); BS may change and is recorded on each use;
// - UV is read from the signed flags; whether it must be set is the caller's rule.
// `hwk`/`swk` come from what the registration proved (attestation-trust.ts), never from flags.
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Transaction } from 'kysely';
import type { AuthMethod } from '../../core/tokens/authentication-methods.js';
import { isProvenHardwareKey, rootFingerprints, type AttestedKey } from '../../core/webauthn/attestation-trust.js';
import { checkAuthentication, knownTransports, type VerifiedAssertion } from '../../core/webauthn/ceremonies.js';
import type { Database, WebauthnCredentialRow } from '../../store/database.js';
import { touchFactor } from '../../store/repositories/factors.js';
import { advanceSignCount, lockWebauthnCredential } from '../../store/repositories/webauthn-credentials.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';

export const parseTransports = (json: string | null): string[] => (json === null ? [] : knownTransports(JSON.parse(json)));

/** `hwk` or `swk`, from what the registration proved and the roots configured now — never from flags. */
export function passkeyMethod(ctx: FlowContext, key: AttestedKey): AuthMethod {
  return isProvenHardwareKey(key, rootFingerprints(ctx.config.webauthn.attestationRoots)) ? 'webauthn_hardware' : 'webauthn_software';
}

export const attestedKeyOf = (row: Pick<WebauthnCredentialRow, 'attestation_root_sha256' | 'device_type'>): AttestedKey => ({
  attestationRootSha256: row.attestation_root_sha256,
  backupEligible: row.device_type === 'multiDevice',
});

/** Why an assertion was refused. Everything but the last two reads as a wrong assertion. */
export type AssertionRefusal = 'wrong_assertion' | 'counter_regression' | 'locked' | 'user_verification_required';

export type AssertionVerdict =
  | {
      ok: true;
      method: AuthMethod;
      assertion: VerifiedAssertion;
      /** In the completing transaction: the counter moves (compare-and-set), BS recorded, the factor touched. */
      claim(trx: Transaction<Database>): Promise<boolean>;
    }
  | { ok: false; refusal: AssertionRefusal };

export async function checkStoredPasskeyAssertion(
  ctx: FlowContext,
  input: { stored: WebauthnCredentialRow; userId: string; credential: AuthenticationResponseJSON; expectedChallenge: string; requireUserVerification: boolean },
  meta: RequestMeta,
): Promise<AssertionVerdict> {
  const { stored } = input;
  const result = await checkAuthentication(ctx.config.webauthn, input.credential, input.expectedChallenge, {
    credentialId: stored.credential_id,
    publicKey: stored.public_key,
    signCount: stored.sign_count,
    transports: parseTransports(stored.transports),
  });
  const who = { userId: input.userId, factorId: stored.factor_id, ip: meta.ip, userAgent: meta.userAgent };
  if (!result.ok) {
    if (!result.counterRegression) return { ok: false, refusal: 'wrong_assertion' };
    const locked = stored.locked_at === null && (await lockWebauthnCredential(ctx.db, stored.factor_id, ctx.now()));
    ctx.events.record({ type: 'webauthn.counter_regression', ...who, details: { stored_count: stored.sign_count, locked: true, newly_locked: locked } });
    return { ok: false, refusal: 'counter_regression' };
  }
  if (stored.locked_at !== null) return { ok: false, refusal: 'locked' };
  if (result.backupEligible !== (stored.device_type === 'multiDevice')) return { ok: false, refusal: 'wrong_assertion' };
  if (input.requireUserVerification && !result.userVerified) return { ok: false, refusal: 'user_verification_required' };
  const now = ctx.now();
  return {
    ok: true,
    method: passkeyMethod(ctx, attestedKeyOf(stored)),
    assertion: result,
    async claim(trx) {
      if (!(await advanceSignCount(trx, stored.factor_id, stored.sign_count, result.newSignCount, result.backedUp))) return false;
      await touchFactor(trx, stored.factor_id, now);
      return true;
    },
  };
}
