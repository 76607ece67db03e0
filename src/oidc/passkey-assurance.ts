// Whether an account can prove a phishing-resistant level at all: `phr` needs an active passkey,
// `phrh` one whose registration proved a hardware key against the roots configured now. An account
// without one cannot be sent through a step-up that would never succeed: the authorization fails
// with OpenID's unmet_authentication_requirements instead.
import type { AssuranceLevel } from '../core/tokens/assurance-levels.js';
import { isProvenHardwareKey, rootFingerprints } from '../core/webauthn/attestation-trust.js';
import type { FlowContext } from '../flows/shared/context.js';
import { listWebauthnCredentialsOfUser } from '../store/repositories/webauthn-credentials.js';

/** The strongest level the account's passkeys can reach: phrh, phr, or undefined without a passkey. */
export async function passkeyAssuranceOfAccount(ctx: FlowContext, userId: string): Promise<AssuranceLevel | undefined> {
  const credentials = await listWebauthnCredentialsOfUser(ctx.db, userId);
  if (credentials.length === 0) return undefined;
  const roots = rootFingerprints(ctx.config.webauthn.attestationRoots);
  const hardware = credentials.some((row) => isProvenHardwareKey({ attestationRootSha256: row.attestation_root_sha256, backupEligible: row.device_type === 'multiDevice' }, roots));
  return hardware ? 'phrh' : 'phr';
}
