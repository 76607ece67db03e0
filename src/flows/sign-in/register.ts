// Registration, the first step of the flow: a user with a password hash, a per-user TOTP secret
// (pending until confirmed), and a pending session whose mfa_token may only confirm it. Accounts
// are free, so each client network may create only so many per hour (RC-02), taken atomically
// before the password is hashed or anything is written; an e-mail address given here starts
// unverified and is sent a verification link after the answer.
import { normalizeEmail, normalizePhone } from '../../core/identity/contact.js';
import { normalizeUsername } from '../../core/identity/username.js';
import { normalizePassword } from '../../core/password/normalize.js';
import { checkPasswordPolicy } from '../../core/password/policy.js';
import { generateId } from '../../core/crypto/random.js';
import { TwofoldError } from '../../errors.js';
import { isUniqueViolation } from '../../store/connect.js';
import { findUserByUsername, insertUser } from '../../store/repositories/users.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { invalidRequest, withHashCapacity } from '../shared/errors.js';
import { insertPendingSession, mintMfaTokenFor } from '../sessions/pending-session.js';
import { clientNetworkId } from '../shared/client-network.js';
import { sendEmailVerificationInBackground } from '../account/email-verification.js';
import { takeRequestBudgets } from '../budgets/request-budgets.js';
import { withGuess } from '../budgets/throttle.js';
import { createPendingTotpFactor, withQrCode, type TotpEnrollment } from '../factors/totp-factor.js';
import { toUserView, type UserView } from '../shared/views.js';
import { runTransaction } from '../../store/transaction.js';

export interface RegisterInput {
  username: string;
  password: string;
  email?: string | undefined;
  phone?: string | undefined;
}

export interface RegisterResult {
  user: UserView;
  mfa_token: string;
  expires_in: number;
  next: 'enroll';
  totp: TotpEnrollment;
}

function usernameTaken(): TwofoldError {
  return new TwofoldError('username_taken', 'That username is already registered; choose another.');
}

export async function register(ctx: FlowContext, input: RegisterInput, meta: RequestMeta = {}): Promise<RegisterResult> {
  const usernameCheck = normalizeUsername(input.username);
  if (!usernameCheck.ok) throw invalidRequest('username', usernameCheck.message);
  const { username } = usernameCheck;
  const email = input.email === undefined ? null : normalizeEmail(input.email);
  if (email === undefined) throw invalidRequest('email', 'Not a valid e-mail address.');
  const phone = input.phone === undefined ? null : normalizePhone(input.phone);
  if (phone === undefined) throw invalidRequest('phone', 'Use the international format, e.g. +14155550123.');

  const password = normalizePassword(input.password);
  const problems = checkPasswordPolicy(password, {
    username,
    email: email ?? undefined,
    serviceName: ctx.config.serviceName,
    minLength: ctx.config.password.minLength,
    maxLength: ctx.config.password.maxLength,
  });
  if (problems.length > 0) {
    throw new TwofoldError('weak_password', problems.map((problem) => problem.message).join(' '), { extensions: { reasons: problems } });
  }
  const network = clientNetworkId(ctx, meta);
  if (network !== undefined) {
    const detail = 'Too many accounts were created from this network; try again later.';
    await takeRequestBudgets(ctx, 'register', [{ scope: 'client', key: `register:client:${network}`, limit: ctx.config.budgets.registrationsPerClientPerHour, windowMs: 60 * 60 * 1000, detail }], meta);
  }
  // Usernames are public by nature here: a taken one must be told so that people can pick another.
  // Each such answer counts against the client IP, so probing names through registration is held
  // to the same per-IP budget as failed logins. Checked before hashing so a taken name costs no
  // argon2 work; the unique index decides races.
  await withGuess(ctx, undefined, meta, async (guess) => {
    if ((await findUserByUsername(ctx.db, username)) === undefined) return;
    await guess.wrong();
    throw usernameTaken();
  });
  const passwordHash = await withHashCapacity(ctx.passwordHasher.hash(password));

  const userId = generateId('usr');
  const now = ctx.now();
  try {
    const { totp, start } = await runTransaction(ctx.db, async (trx) => {
      await insertUser(trx, { id: userId, username, email, phone, password_hash: passwordHash, created_at: now, updated_at: now, disabled_at: null, credentials_changed_at: now, email_verified_at: null });
      const start = await insertPendingSession(ctx, trx, { id: userId, credentials_changed_at: now }, meta);
      const totp = await createPendingTotpFactor(ctx, trx, { id: userId, username }, null, start.sessionId);
      return { totp, start };
    });
    ctx.events.record({ type: 'user.registered', userId, sessionId: start.sessionId, ip: meta.ip, userAgent: meta.userAgent });
    ctx.events.record({ type: 'factor.enrolled', userId, sessionId: start.sessionId, factorId: totp.factor_id, ip: meta.ip, userAgent: meta.userAgent, details: { type: 'totp' } });
    if (email !== null) sendEmailVerificationInBackground(ctx, userId, meta);
    return {
      user: toUserView({ id: userId, username, email, email_verified_at: null, phone, created_at: now }),
      mfa_token: await mintMfaTokenFor(ctx, userId, start),
      expires_in: ctx.config.tokens.mfaTokenTtlSeconds,
      next: 'enroll',
      totp: await withQrCode(totp),
    };
  } catch (error) {
    if (isUniqueViolation(error)) throw usernameTaken();
    throw error;
  }
}
