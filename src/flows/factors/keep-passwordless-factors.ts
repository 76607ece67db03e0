// A passwordless account keeps what it signs in with (PW-16): removing one of its passkeys is
// refused when what remains would no longer satisfy canGoPasswordless — the person would be one
// lost device away from a lockout. Other factors (an app, a phone) do not sign in alone and may go
// as before. Recovery codes only grow by regeneration (new ones replace the old, as many as ever),
// and spending one is a sign-in, never refused for this.
import { hasPassword } from '../../core/password/no-password.js';
import { TwofoldError } from '../../errors.js';
import type { Executor, FactorRow } from '../../store/database.js';
import { findUserById } from '../../store/repositories/users.js';
import type { FlowContext } from '../shared/context.js';
import { canGoPasswordless, readPasswordlessStanding } from './can-go-passwordless.js';

/** In the removal's transaction, after the lock on the user's factors (so two removals cannot both pass). */
export async function requirePasswordlessFactorsKept(ctx: FlowContext, trx: Executor, factor: Pick<FactorRow, 'id' | 'user_id' | 'type' | 'status'>): Promise<void> {
  if (factor.type !== 'webauthn' || factor.status !== 'active') return;
  const user = await findUserById(trx, factor.user_id);
  if (user === undefined || hasPassword(user)) return;
  const verdict = canGoPasswordless(await readPasswordlessStanding(ctx, trx, factor.user_id, factor.id));
  if (verdict.allowed) return;
  const instead = verdict.missing === 'passkey' ? 'set a password first' : ctx.config.factors.has('recovery') ? 'add another passkey or get new recovery codes first, or set a password' : 'add another passkey first, or set a password';
  throw new TwofoldError('passwordless_factor_required', `Your account has no password and signs in with this passkey: ${instead}.`, { extensions: { missing: verdict.missing } });
}
