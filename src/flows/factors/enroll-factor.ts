// POST /v1/factors: start enrolling a factor — an authenticator app (TOTP), a phone (SMS), an
// e-mail address, or a passkey. With an mfa_token only while the user has no active factor
// (first sign-in, or after an admin reset); afterwards only with an access token whose second
// factor is recent (step-up), so a stolen password or a stale token cannot add one (OT-07, WA-06).
// The pending factor belongs to the session that started it: only that session, still allowed
// to start it, may send it a new challenge or confirm it (confirm-factor.ts).
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { generateId } from '../../core/crypto/random.js';
import { normalizeEmail, normalizePhone } from '../../core/identity/contact.js';
import { TwofoldError } from '../../errors.js';
import type { FactorRow, FactorType } from '../../store/database.js';
import { deletePendingFactors, insertFactor, listFactorsOfUser } from '../../store/repositories/factors.js';
import { runTransaction } from '../../store/transaction.js';
import type { AccessAuthentication, PendingAuthentication } from '../sessions/authenticate.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { factorLabel } from './factor-label.js';
import { invalidRequest } from '../shared/errors.js';
import { requireFactorEnabled } from './factor-types.js';
import { reserveOtpSend, sendOtpChallenge } from './otp-challenges.js';
import { startPasskeyRegistration } from './passkeys.js';
import { requireRecentAuthentication } from '../sessions/step-up.js';
import { createPendingTotpFactor, withQrCode, type TotpEnrollment } from './totp-factor.js';
import { maskedDestination } from '../shared/views.js';

export interface EnrollFactorInput {
  type: FactorType;
  label?: string | undefined;
  phone?: string | undefined;
  email?: string | undefined;
}

export interface PendingFactorFields {
  factor_id: string;
  type: FactorType;
  label: string | null;
  status: 'pending';
}

export type Enrollment =
  | TotpEnrollment
  | (PendingFactorFields & { destination: string; challenge_id: string; expires_in: number; notice?: string })
  | (PendingFactorFields & { challenge_id: string; expires_in: number; options: PublicKeyCredentialCreationOptionsJSON });

export async function enrollFactor(
  ctx: FlowContext,
  auth: PendingAuthentication | AccessAuthentication,
  input: EnrollFactorInput,
  meta: RequestMeta = {},
): Promise<Enrollment> {
  requireFactorEnabled(ctx, input.type);
  await requireEnrollmentAllowed(ctx, auth);
  if (input.type === 'email' && auth.kind === 'mfa') {
    // Only the first factor is enrolled with an mfa_token, and a mailbox alone is not a second
    // factor (NIST SP 800-63B-4, OB-05): e-mail codes come on top of a real one.
    throw new TwofoldError('forbidden', 'E-mail codes cannot be your only second factor: enroll an authenticator app, a phone or a passkey first.');
  }
  const label = factorLabel(input.label);
  const record = (factorId: string) =>
    ctx.events.record({ type: 'factor.enrolled', userId: auth.user.id, sessionId: auth.session.id, factorId, ip: meta.ip, userAgent: meta.userAgent, details: { type: input.type } });

  if (input.type === 'totp') {
    const pending = await runTransaction(ctx.db, (trx) => createPendingTotpFactor(ctx, trx, auth.user, label, auth.session.id));
    record(pending.factor_id);
    return withQrCode(pending);
  }
  if (input.type === 'sms' || input.type === 'email') {
    const destination = input.type === 'sms' ? requirePhone(input.phone) : requireEmail(input.email);
    // The send budgets first (RC-02): a refused send leaves no pending factor behind either.
    const reservation = await reserveOtpSend(ctx, input.type, auth.user.id, destination, meta);
    const factor = await createPendingFactor(ctx, auth, input.type, label, destination);
    record(factor.id);
    const sent = await sendOtpChallenge(ctx, { factor, userId: auth.user.id, sessionId: auth.session.id, purpose: 'enroll', reservation }, meta);
    const enrollment = { factor_id: factor.id, type: input.type, label, status: 'pending' as const, destination: maskedDestination(factor), ...sent };
    // NIST SP 800-63B calls SMS a restricted authenticator (SIM swaps, interception): say so (OB-04).
    return input.type === 'sms' ? { ...enrollment, notice: smsRiskNotice(ctx) } : enrollment;
  }
  const factor = await createPendingFactor(ctx, auth, 'webauthn', label, null);
  record(factor.id);
  const started = await startPasskeyRegistration(ctx, { user: auth.user, factorId: factor.id, sessionId: auth.session.id });
  return { factor_id: factor.id, type: 'webauthn', label, status: 'pending', ...started };
}

/**
 * Who may add a factor: an mfa_token while the account has no active factor; otherwise an access
 * token of an aal2 session whose second factor is recent (step-up). Asked again at every step of
 * the enrollment — starting it, a new challenge, the confirmation — since each is a chance to add
 * a factor, and a session can lose what it had (time passes; it ends).
 */
export async function requireEnrollmentAllowed(ctx: FlowContext, auth: PendingAuthentication | AccessAuthentication): Promise<void> {
  if (auth.kind === 'mfa') {
    if ((await listFactorsOfUser(ctx.db, auth.user.id, 'active')).length > 0) {
      throw new TwofoldError('forbidden', 'This account already has an active factor: verify it at /v1/mfa/verify, then add factors with an access token.');
    }
    return;
  }
  requireRecentAuthentication(ctx, auth);
}

/**
 * A pending factor answers only to the session that started enrolling it: another session of the
 * same person (a remembered browser, a stolen token) cannot finish it with a secret or a phone of
 * its own. Checked before requireEnrollmentAllowed, so nobody is sent to step up for nothing.
 */
export function requireEnrollmentOfThisSession(factor: FactorRow, auth: PendingAuthentication | AccessAuthentication): void {
  if (factor.session_id === auth.session.id) return;
  const detail =
    factor.session_id === null
      ? 'This enrollment was started before enrollments were tied to the session that started them, and can no longer be confirmed: start it again with POST /v1/factors.'
      : 'This enrollment was started in another session; only that session can continue it. Start a new one here with POST /v1/factors.';
  throw new TwofoldError('forbidden', detail);
}

export function smsRiskNotice(ctx: FlowContext): string {
  const stronger = [ctx.config.factors.has('webauthn') ? 'a passkey' : '', ctx.config.factors.has('totp') ? 'an authenticator app' : ''].filter((choice) => choice !== '').join(' or ');
  const advice = stronger === '' ? '' : ` ${stronger[0]?.toUpperCase()}${stronger.slice(1)} protects this account better.`;
  return `SMS codes can be intercepted or redirected by a SIM swap.${advice}`;
}

function requirePhone(phone: string | undefined): string {
  const normalized = phone === undefined ? undefined : normalizePhone(phone);
  if (normalized === undefined) throw invalidRequest('phone', 'Send the phone number in international format, e.g. +14155550123.');
  return normalized;
}

function requireEmail(email: string | undefined): string {
  const normalized = email === undefined ? undefined : normalizeEmail(email);
  if (normalized === undefined) throw invalidRequest('email', 'Send a valid e-mail address.');
  return normalized;
}

/** A new pending factor replaces any unconfirmed one of the same type. */
async function createPendingFactor(
  ctx: FlowContext,
  auth: PendingAuthentication | AccessAuthentication,
  type: FactorType,
  label: string | null,
  destination: string | null,
): Promise<FactorRow> {
  const userId = auth.user.id;
  const factor: FactorRow = {
    id: generateId('fac'),
    user_id: userId,
    type,
    label,
    status: 'pending',
    secret_ciphertext: null,
    destination,
    last_used_step: -1,
    created_at: ctx.now(),
    activated_at: null,
    last_used_at: null,
    session_id: auth.session.id,
  };
  await runTransaction(ctx.db, async (trx) => {
    await deletePendingFactors(trx, userId, type);
    await insertFactor(trx, factor);
  });
  return factor;
}
