// Codes sent by SMS or e-mail (OB-01..OB-04). Sending is throttled per destination (a resend
// interval and a count per 15 minutes), per account (a count per hour), per client network and for
// everyone together (per hour, RC-02), in the shared store, so that nobody can turn Twofold into
// an SMS cannon. A new code supersedes the previous one for the same factor and session; a failed
// delivery leaves no usable code and says so (502/503).
import { generateId } from '../../core/crypto/random.js';
import { sha256Base64url } from '../../core/crypto/digest.js';
import type { Database, ChallengeRow } from '../../store/database.js';
import type { Transaction } from 'kysely';
import { generateOtpCode, hashOtpCode, isOtpCodeShape, verifyOtpCode } from '../../core/otp/codes.js';
import type { FailureReason, Proof } from '../sessions/second-factor.js';
import { DeliveryError, type MessageChannel } from '../../delivery/message.js';
import { TwofoldError } from '../../errors.js';
import type { ChallengePurpose, FactorRow } from '../../store/database.js';
import { isForeignKeyViolation } from '../../store/connect.js';
import { consumeChallenge, insertChallenge, spendChallengeAttempt } from '../../store/repositories/challenges.js';
import { tooManyAttempts } from '../budgets/budgets.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { takeSendBudgets } from '../budgets/send-budgets.js';

export interface SentChallenge {
  challenge_id: string;
  expires_in: number;
}

const destinationWindowMs = 15 * 60 * 1000;
const accountWindowMs = 60 * 60 * 1000;

/** Proof that the budgets of one send to one destination were taken (see reserveOtpSend). */
export interface OtpSendReservation {
  readonly destination: string;
}

/**
 * Taken before the code exists (RC-02) — and, at enrollment, before the pending factor is written:
 * the resend interval of the destination (one atomic claim: of concurrent requests on any
 * instance, exactly one sends, OB-03), then the send budgets — the client network's, the
 * destination's, the account's and everyone's, each atomically. A refusal writes nothing.
 */
export async function reserveOtpSend(ctx: FlowContext, channel: MessageChannel, userId: string, destination: string, meta: RequestMeta): Promise<OtpSendReservation> {
  const interval = ctx.config.otp.resendIntervalSeconds * 1000;
  if (interval > 0) {
    const now = ctx.now();
    const heldUntil = await ctx.kv.claimUntil(`otp:interval:${sha256Base64url(destination)}`, now, now + interval);
    if (heldUntil !== undefined) throw tooManyAttempts('A code was sent moments ago; wait before asking for another.', Math.max(1, Math.ceil((heldUntil - now) / 1000)));
  }
  await takeSendBudgets(ctx, channel, { ...meta, userId }, [
    { scope: 'destination', keyspace: 'destination', id: destination, limit: ctx.config.otp.sendsPerDestination, windowMs: destinationWindowMs },
    { scope: 'account', keyspace: 'account', id: userId, limit: ctx.config.otp.sendsPerAccount, windowMs: accountWindowMs },
  ]);
  return { destination };
}

function messageFor(ctx: FlowContext, channel: MessageChannel, code: string, purpose: ChallengePurpose): { subject: string; text: string } {
  const minutes = Math.round(ctx.config.otp.ttlSeconds / 60);
  const service = ctx.config.serviceName;
  const what = purpose === 'enroll' ? 'to confirm this ' + (channel === 'sms' ? 'phone number' : 'address') : 'to sign in';
  // The last line is the origin-bound one-time-code format (WebOTP): browsers offer to fill it in.
  const text = `Your ${service} code ${what} is ${code}. It expires in ${minutes} minutes. Never share it.\n\n@${ctx.config.webauthn.rpId} #${code}`;
  // The code stays out of the subject, which lock screens and mail logs show to anyone.
  return { subject: purpose === 'enroll' ? `Confirm your address for ${service}` : `Your ${service} sign-in code`, text };
}

export async function sendOtpChallenge(
  ctx: FlowContext,
  input: { factor: FactorRow; userId: string; sessionId: string; purpose: ChallengePurpose; reservation?: OtpSendReservation },
  meta: RequestMeta,
): Promise<SentChallenge> {
  const { factor } = input;
  const channel: MessageChannel = factor.type === 'email' ? 'email' : 'sms';
  const destination = factor.destination;
  if (destination === null) throw new TypeError(`factor ${factor.id} has no destination`);
  if (input.reservation === undefined) await reserveOtpSend(ctx, channel, input.userId, destination, meta);
  else if (input.reservation.destination !== destination) throw new TypeError('a send reserved for another destination');

  const now = ctx.now();
  const challengeId = generateId('chl');
  const code = generateOtpCode();
  const expiresAt = now + ctx.config.otp.ttlSeconds * 1000;
  try {
    await insertChallenge(ctx.db, {
      id: challengeId,
      user_id: input.userId,
      factor_id: factor.id,
      session_id: input.sessionId,
      kind: 'otp',
      purpose: input.purpose,
      secret: hashOtpCode(code, challengeId, ctx.codePepper),
      created_at: now,
      expires_at: expiresAt,
      used_at: null,
      superseded_at: null,
    });
  } catch (error) {
    // A concurrent enrollment of the same kind replaced this pending factor, or it was removed.
    if (isForeignKeyViolation(error)) throw new TwofoldError('not_found', 'This factor was replaced or removed meanwhile; use the newest one.');
    throw error;
  }
  const message = messageFor(ctx, channel, code, input.purpose);
  const event = { userId: input.userId, sessionId: input.sessionId, factorId: factor.id, ip: meta.ip, userAgent: meta.userAgent };
  try {
    await ctx.senders[channel].send({ channel, to: destination, subject: message.subject, text: message.text, purpose: input.purpose, expiresAt });
  } catch (error) {
    // The code never reached anyone: retire it so it cannot be guessed at, and say what happened.
    await ctx.db.updateTable('challenges').set({ superseded_at: now }).where('id', '=', challengeId).execute();
    ctx.events.record({ type: 'challenge.delivery_failed', ...event, details: { channel, provider: ctx.senders[channel].provider } });
    if (error instanceof DeliveryError) {
      // The provider's name and answer (status, error code, SMTP reply) are for the operator: the
      // error handler logs them with the cause. The caller learns only that sending failed.
      throw new TwofoldError(error.kind === 'rejected' ? 'delivery_failed' : 'server_busy', `The ${channel === 'sms' ? 'SMS' : 'e-mail'} could not be sent; try again, or use another factor.`, {
        cause: error,
        ...(error.kind === 'unavailable' ? { headers: { 'Retry-After': '5' } } : {}),
      });
    }
    throw error;
  }
  ctx.events.record({ type: 'challenge.sent', ...event, details: { channel, purpose: input.purpose } });
  return { challenge_id: challengeId, expires_in: ctx.config.otp.ttlSeconds };
}

export type SentCodeCheck = { ok: true; proof: Proof } | { ok: false; reason: FailureReason };

/**
 * Checks a code against its challenge — spending one of the challenge's own attempts first
 * (OB-02/FL-05) — and, when it matches, returns the proof whose claim consumes the challenge and
 * then runs `alsoClaim` (activating the factor at enrollment, marking it used at sign-in).
 */
export async function checkSentCode(
  ctx: FlowContext,
  input: { challenge: ChallengeRow; factor: FactorRow; code: string },
  alsoClaim: (trx: Transaction<Database>, now: number) => Promise<boolean>,
): Promise<SentCodeCheck> {
  const { challenge, factor, code } = input;
  const now = ctx.now();
  if ((await spendChallengeAttempt(ctx.db, challenge.id, ctx.config.otp.maxAttemptsPerChallenge, now)) === undefined) return { ok: false, reason: 'wrong_code' };
  if (!verifyOtpCode(code, challenge.id, challenge.secret, ctx.codePepper)) return { ok: false, reason: isOtpCodeShape(code) ? 'wrong_code' : 'malformed' };
  return {
    ok: true,
    proof: {
      method: factor.type === 'email' ? 'email' : 'sms',
      claim: async (trx) => (await consumeChallenge(trx, challenge.id, now)) && (await alsoClaim(trx, now)),
    },
  };
}
