// TOTP factors as stored: the secret is sealed with AAD "totp|<factor>|<user>", so a ciphertext
// moved to another factor or user does not open. Enrollment output is the only place the
// secret ever leaves the server (OT-07): when it starts, and again — opened from the sealed row,
// never carried by the page — to the session enrolling it while the factor is still pending
// (pending-enrollment.ts), so that a wrong first code does not cost the entry already in the app.
import { generateId } from '../../core/crypto/random.js';
import { secretBoxAad } from '../../core/crypto/secretbox.js';
import { generateTotpSecret } from '../../core/totp/secret.js';
import { buildOtpauthUri, renderQrSvg } from '../../core/totp/uri.js';
import type { Executor, FactorRow } from '../../store/database.js';
import { deletePendingFactors, insertFactor } from '../../store/repositories/factors.js';
import type { FlowContext } from '../shared/context.js';

export interface TotpEnrollment {
  factor_id: string;
  type: 'totp';
  label: string | null;
  status: 'pending';
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

/** Also used to re-seal the secret under a new encryption key (rotate-encryption-key.ts). */
export function totpAad(factorId: string, userId: string): string {
  return secretBoxAad('totp', factorId, userId);
}

export type PendingTotp = Omit<TotpEnrollment, 'qr_svg'>;

/** Replaces any unconfirmed TOTP factor of the user with a fresh one, which only `sessionId` may confirm. */
export async function createPendingTotpFactor(
  ctx: FlowContext,
  db: Executor,
  user: { id: string; username: string },
  label: string | null,
  sessionId: string,
): Promise<PendingTotp> {
  const factorId = generateId('fac');
  const secret = generateTotpSecret();
  await deletePendingFactors(db, user.id, 'totp');
  await insertFactor(db, {
    id: factorId,
    user_id: user.id,
    type: 'totp',
    label,
    status: 'pending',
    secret_ciphertext: ctx.secretBox.seal(secret, totpAad(factorId, user.id)),
    created_at: ctx.now(),
    activated_at: null,
    last_used_at: null,
    session_id: sessionId,
  });
  const otpauthUri = buildOtpauthUri({ issuer: ctx.config.serviceName, accountName: user.username, secretBase32: secret });
  return { factor_id: factorId, type: 'totp', label, status: 'pending', secret, otpauth_uri: otpauthUri };
}

/** A pending factor's enrollment again, from its sealed secret (the caller checked who may see it). */
export function reopenPendingTotp(ctx: FlowContext, factor: FactorRow, user: { username: string }): PendingTotp {
  if (factor.status !== 'pending') throw new TypeError(`factor ${factor.id} is not pending`);
  const secret = openTotpSecret(ctx, factor);
  const otpauthUri = buildOtpauthUri({ issuer: ctx.config.serviceName, accountName: user.username, secretBase32: secret });
  return { factor_id: factor.id, type: 'totp', label: factor.label, status: 'pending', secret, otpauth_uri: otpauthUri };
}

/** Rendered outside the transaction: a QR code is CPU work that should not hold the database. */
export async function withQrCode(pending: PendingTotp): Promise<TotpEnrollment> {
  return { ...pending, qr_svg: await renderQrSvg(pending.otpauth_uri) };
}

export function openTotpSecret(ctx: FlowContext, factor: FactorRow): string {
  if (factor.type !== 'totp' || factor.secret_ciphertext === null) throw new TypeError(`factor ${factor.id} has no TOTP secret`);
  return ctx.secretBox.open(factor.secret_ciphertext, totpAad(factor.id, factor.user_id));
}
