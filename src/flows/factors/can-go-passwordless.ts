// The rule of a passwordless account (PW-15, PW-16): it signs in with a passkey alone, so losing
// that passkey must not lock its owner out. It needs two passkeys that can sign in alone, or one
// and unused recovery codes that can be used: the way back in once the passkey is gone is a
// password reset, then the password and a second factor — a recovery code when nothing else is
// left — so the codes count only while a reset code can reach the account (a verified e-mail
// address or phone, reset-destination.ts). Without one, recovery codes could never be used.
// The same rule decides whether the password may go and whether a passkey may go afterwards.
import type { Executor, WebauthnCredentialRow } from '../../store/database.js';
import { countUnusedRecoveryCodes } from '../../store/repositories/recovery-codes.js';
import { listWebauthnCredentialsOfUser } from '../../store/repositories/webauthn-credentials.js';
import { listFactorsOfUser } from '../../store/repositories/factors.js';
import { findUserById } from '../../store/repositories/users.js';
import type { FlowContext } from '../shared/context.js';
import { resetDestinationOf } from './reset-destination.js';
import { isDiscoverablePasskey } from './discoverable-passkey.js';

export interface PasswordlessStanding {
  /** The user's active passkeys. */
  passkeys: readonly WebauthnCredentialRow[];
  unusedRecoveryCodes: number;
  /** Whether a password reset code can reach the account (a verified e-mail address or phone). */
  resetReachable: boolean;
  /** Whether this server offers passkeys and recovery codes at all: what it does not offer cannot sign anyone in. */
  passkeysEnabled: boolean;
  recoveryCodesEnabled: boolean;
}

/** What is missing, as a stable word for clients: no passkey at all, or a second way in besides the one passkey. */
export type PasswordlessShortfall = 'passkey' | 'second_passkey_or_recovery_codes';

export type PasswordlessVerdict = { allowed: true; passkeys: number } | { allowed: false; passkeys: number; missing: PasswordlessShortfall; detail: string };

export function canGoPasswordless(standing: PasswordlessStanding): PasswordlessVerdict {
  const passkeys = standing.passkeysEnabled ? standing.passkeys.filter(isDiscoverablePasskey).length : 0;
  const codes = standing.recoveryCodesEnabled && standing.resetReachable ? standing.unusedRecoveryCodes : 0;
  if (passkeys >= 2 || (passkeys === 1 && codes > 0)) return { allowed: true, passkeys };
  if (passkeys === 0) {
    return { allowed: false, passkeys, missing: 'passkey', detail: 'Without a password you sign in with a passkey alone: add a passkey first (and a second one, or keep unused recovery codes).' };
  }
  return {
    allowed: false,
    passkeys,
    missing: 'second_passkey_or_recovery_codes',
    detail: !standing.recoveryCodesEnabled
      ? 'One passkey is not enough on its own: add a second passkey, so that losing the device does not lock you out.'
      : standing.resetReachable
        ? 'One passkey is not enough on its own: add a second passkey or get new recovery codes, so that losing the device does not lock you out.'
        : 'One passkey is not enough on its own: add a second passkey, or verify an e-mail address or phone (recovery codes are used after a password reset, which goes there), so that losing the device does not lock you out.',
  };
}

/** The user's standing as stored now; `withoutFactorId`: as it would be once that factor is gone. */
export async function readPasswordlessStanding(ctx: FlowContext, db: Executor, userId: string, withoutFactorId?: string): Promise<PasswordlessStanding> {
  // One after the other: `db` may be a transaction, whose one connection takes one query at a time.
  const passkeys = await listWebauthnCredentialsOfUser(db, userId);
  const unusedRecoveryCodes = await countUnusedRecoveryCodes(db, userId);
  const user = await findUserById(db, userId);
  const activeFactors = (await listFactorsOfUser(db, userId, 'active')).filter((factor) => factor.id !== withoutFactorId);
  return {
    passkeys: passkeys.filter((passkey) => passkey.factor_id !== withoutFactorId),
    unusedRecoveryCodes,
    resetReachable: user !== undefined && resetDestinationOf(ctx, user, activeFactors) !== undefined,
    passkeysEnabled: ctx.config.factors.has('webauthn'),
    recoveryCodesEnabled: ctx.config.factors.has('recovery'),
  };
}
