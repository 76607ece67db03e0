// E-mail addresses are unverified until their owner proves them (RC-02): anyone can type someone
// else's address at sign-up, so an unverified address receives nothing but a verification mail —
// no reset codes, no security notices. The proof is a link with a single-use token (256 random
// bits, stored as SHA-256), bound to the user and to the address it was sent to, valid 24 hours:
// it opens the hosted page /verify-email, whose button POSTs it (a GET changes nothing, so mail
// scanners that follow links verify nothing), or an app POSTs it to /v1/email/verify. Changing the
// address makes it unverified again and kills the links sent to the old one.
//
// What a verification mail may cost: 5 per address per 24 hours whoever asks (40 throw-away
// accounts with a victim's address reach it 5 times), the client network's and everyone's e-mail
// budgets, and a resend per account per minute.
import { generateRandomBase64url, generateId } from '../../core/crypto/random.js';
import { sha256Base64url } from '../../core/crypto/digest.js';
import { maskEmail } from '../../core/identity/mask.js';
import { normalizeEmail } from '../../core/identity/contact.js';
import { TwofoldError } from '../../errors.js';
import type { UserRow } from '../../store/database.js';
import { changeEmail, consumeEmailVerification, findEmailVerificationByHash, markEmailVerified, replaceEmailVerification } from '../../store/repositories/email-verifications.js';
import { findUserById } from '../../store/repositories/users.js';
import { runTransaction } from '../../store/transaction.js';
import type { AccessAuthentication } from '../sessions/authenticate.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { invalidRequest } from '../shared/errors.js';
import { mailNotice } from '../audit/notifications.js';
import { takeRequestBudgets } from '../budgets/request-budgets.js';
import { takeSendBudgets, trySendBudgets, type OwnSendBudget } from '../budgets/send-budgets.js';
import { requireRecentAuthentication } from '../sessions/step-up.js';
import { toUserView, type UserView } from '../shared/views.js';

const tokenPrefix = 'tfv_';
/** 32 random bytes in base64url. */
const tokenShape = /^tfv_[A-Za-z0-9_-]{43}$/;
const dayMs = 24 * 60 * 60 * 1000;
const resendIntervalMs = 60 * 1000;

export const verificationMailAnswer = 'A verification link is on its way to your e-mail address.';

/** The hosted page the link opens; an app serving its own pages serves this path too. */
export function verificationLink(ctx: FlowContext, token: string): string {
  return `${ctx.config.publicUrl}/verify-email?token=${token}`;
}

function addressBudget(ctx: FlowContext, email: string): OwnSendBudget {
  return { scope: 'destination', keyspace: 'verify-address', id: email, limit: ctx.config.budgets.verificationMailsPerAddressPerDay, windowMs: dayMs };
}

/** Writes a new link (the previous ones die) and mails it; the budgets were taken by the caller. */
async function mailVerificationLink(ctx: FlowContext, user: UserRow & { email: string }, meta: RequestMeta): Promise<void> {
  const token = `${tokenPrefix}${generateRandomBase64url(32)}`;
  const now = ctx.now();
  const expiresAt = now + ctx.config.emailVerificationTtlSeconds * 1000;
  await replaceEmailVerification(ctx.db, { id: generateId('evl'), user_id: user.id, email: user.email, token_hash: sha256Base64url(token), created_at: now, expires_at: expiresAt, used_at: null });
  const hours = Math.round(ctx.config.emailVerificationTtlSeconds / 3600);
  const service = ctx.config.serviceName;
  await ctx.senders.email.send({
    channel: 'email',
    to: user.email,
    subject: `Confirm your e-mail address for ${service}`,
    text:
      `Hello ${user.username},\n\nSomeone — we hope you — gave this address to the ${service} account "${user.username}". ` +
      `To confirm that it is yours, open this link within ${hours === 1 ? '1 hour' : `${hours} hours`} and press the button:\n\n${verificationLink(ctx, token)}\n\n` +
      `Until you do, ${service} sends nothing else to this address: no password reset codes, no security notices. ` +
      `If it was not you, ignore this message: unconfirmed, this address gets nothing but such links, at most ${ctx.config.budgets.verificationMailsPerAddressPerDay} a day.`,
    purpose: 'email_verification',
    expiresAt,
  });
  ctx.events.record({ type: 'email.verification_sent', userId: user.id, ip: meta.ip, userAgent: meta.userAgent, details: { to: maskEmail(user.email) } });
}

function needsVerification(user: UserRow | undefined): user is UserRow & { email: string } {
  return user !== undefined && user.email !== null && user.email_verified_at === null && user.disabled_at === null;
}

/**
 * After registration or a change of address: the verification mail goes out after the answer, so
 * the answer's timing tells nothing; a spent budget is counted and recorded, and the person can
 * ask again from the account page.
 */
export function sendEmailVerificationInBackground(ctx: FlowContext, userId: string, meta: RequestMeta): void {
  ctx.background.run('e-mail verification', async () => {
    const user = await findUserById(ctx.db, userId);
    if (!needsVerification(user)) return;
    const budget = await trySendBudgets(ctx, 'email', { ...meta, userId }, [addressBudget(ctx, user.email)]);
    if (budget.taken) await mailVerificationLink(ctx, user, meta);
  });
}

/** POST /v1/me/email/verification: a new link to the caller's unverified address (the old one dies). */
export async function resendEmailVerification(ctx: FlowContext, auth: AccessAuthentication, meta: RequestMeta = {}): Promise<{ message: string }> {
  const user = auth.user;
  if (user.email === null) throw new TwofoldError('invalid_request', 'This account has no e-mail address; add one first.');
  if (user.email_verified_at !== null) throw new TwofoldError('invalid_request', 'This e-mail address is already verified.');
  await takeRequestBudgets(
    ctx,
    'email_verification',
    [{ scope: 'account', key: `verify:resend:${sha256Base64url(user.id)}`, limit: 1, windowMs: resendIntervalMs, detail: 'A verification link was sent moments ago; wait before asking for another.' }],
    { ...meta, userId: user.id },
  );
  await takeSendBudgets(ctx, 'email', { ...meta, userId: user.id }, [addressBudget(ctx, user.email)]);
  await mailVerificationLink(ctx, { ...user, email: user.email }, meta);
  return { message: verificationMailAnswer };
}

function invalidLink(): TwofoldError {
  return new TwofoldError('invalid_code', 'This verification link is wrong, expired or already used, or the account’s address changed since; ask for a new one.');
}

/**
 * POST /v1/email/verify {token}: the link proves the mailbox. It verifies exactly the address it
 * was sent to, for exactly the account it was sent for, once — and only while that account still
 * has that address (a link to an old address verifies nothing).
 */
export async function verifyEmail(ctx: FlowContext, input: { token: string }, meta: RequestMeta = {}): Promise<void> {
  if (!tokenShape.test(input.token)) throw invalidLink();
  const verification = await findEmailVerificationByHash(ctx.db, sha256Base64url(input.token));
  const now = ctx.now();
  if (verification === undefined || verification.used_at !== null || verification.expires_at <= now) throw invalidLink();
  // Both or neither: the link is spent only by verifying the address it names.
  await runTransaction(ctx.db, async (trx) => {
    if (!(await consumeEmailVerification(trx, verification.id, now))) throw invalidLink();
    if (!(await markEmailVerified(trx, verification.user_id, verification.email, now))) throw invalidLink();
  });
  ctx.events.record({ type: 'email.verified', userId: verification.user_id, ip: meta.ip, userAgent: meta.userAgent, details: { address: maskEmail(verification.email) } });
}

/**
 * PUT /v1/me/email {email}: a new address, unverified until its owner follows the link mailed to
 * it. Needs a recent second factor (SS-09): the address is where reset codes will go. The old
 * address, when it was verified, is told (OB-06).
 */
export async function changeOwnEmail(ctx: FlowContext, auth: AccessAuthentication, input: { email: string }, meta: RequestMeta = {}): Promise<UserView> {
  requireRecentAuthentication(ctx, auth);
  const email = normalizeEmail(input.email);
  if (email === undefined) throw invalidRequest('email', 'Send a valid e-mail address.');
  const previous = auth.user;
  if (email === previous.email) return toUserView(previous);
  const now = ctx.now();
  await changeEmail(ctx.db, previous.id, email, now);
  ctx.events.record({ type: 'email.changed', userId: previous.id, sessionId: auth.session.id, ip: meta.ip, userAgent: meta.userAgent, details: { to: maskEmail(email) } });
  if (previous.email !== null && previous.email_verified_at !== null) {
    const oldAddress = previous.email;
    const text = `The e-mail address of your account was changed to ${maskEmail(email)}. If it was not you, sign in and change your password and the address back.`;
    ctx.background.run('notice of a changed address', () => mailNotice(ctx, { userId: previous.id, username: previous.username, to: oldAddress, text, ip: meta.ip }));
  }
  sendEmailVerificationInBackground(ctx, previous.id, meta);
  return toUserView({ ...previous, email, email_verified_at: null });
}
