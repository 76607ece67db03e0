// Recovery codes: issued with the first factor and again on request, each a one-time stand-in
// for the second factor. Only their HMACs (keyed with the server's code pepper) are stored.
import { generateId } from '../../core/crypto/random.js';
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from '../../core/recovery/codes.js';
import type { Executor } from '../../store/database.js';
import { replaceRecoveryCodes } from '../../store/repositories/recovery-codes.js';
import type { FlowContext } from '../shared/context.js';

/** New recovery codes replace the old ones; the plain codes are returned once and never stored. */
export async function issueRecoveryCodes(ctx: FlowContext, db: Executor, userId: string): Promise<string[]> {
  if (!ctx.config.factors.has('recovery')) return [];
  const codes = generateRecoveryCodes(ctx.config.mfa.recoveryCodeCount);
  const hashed = codes.map((code) => ({ id: generateId('rc'), codeHash: hashRecoveryCode(normalizeRecoveryCode(code)!, ctx.codePepper) }));
  await replaceRecoveryCodes(db, userId, hashed, ctx.now());
  return codes;
}
