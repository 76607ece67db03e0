// Whether an account can prove a phishing-resistant level at all: `phr` needs an active passkey,
// `phrh` one (not locked) whose registration proved a hardware key against the roots configured now. An account
// without one cannot be sent through a step-up that would never succeed: the authorization fails
// with OpenID's unmet_authentication_requirements instead.
import type { AssuranceLevel } from '../core/tokens/assurance-levels.js';
import { attestedKeyOf, passkeyMethod } from '../flows/factors/passkey-assertion.js';
import type { FlowContext } from '../flows/shared/context.js';
import { listWebauthnCredentialsOfUser } from '../store/repositories/webauthn-credentials.js';

/** The strongest level the account's passkeys can reach: phrh, phr, or undefined without a passkey. */
export async function passkeyAssuranceOfAccount(ctx: FlowContext, userId: string): Promise<AssuranceLevel | undefined> {
  // A locked passkey (its counter went backwards: a clone) can prove nothing.
  const credentials = (await listWebauthnCredentialsOfUser(ctx.db, userId)).filter((row) => row.locked_at === null);
  if (credentials.length === 0) return undefined;
  const hardware = credentials.some((row) => passkeyMethod(ctx, attestedKeyOf(row)) === 'webauthn_hardware');
  return hardware ? 'phrh' : 'phr';
}
