// Enrolling a factor: the first one right after signing up (with the pending sign-in), or another
// one from the account page (with a recent second factor — otherwise a step-up first). The QR
// code and the secret as text for manual entry; a phone number; or a passkey. A wrong code shows
// the same enrollment again (enrollment-form.ts) with the tries left; the last wrong one ends the
// sign-in, never the account, and the page offers the password form that leads back here.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TwofoldError } from '../../errors.js';
import type { AccessAuthentication, PendingAuthentication } from '../../flows/sessions/authenticate.js';
import { confirmFactor } from '../../flows/factors/confirm-factor.js';
import { enrollFactor, type Enrollment } from '../../flows/factors/enroll-factor.js';
import { startChallenge } from '../../flows/sign-in/mfa-challenge.js';
import { showPendingEnrollment, showPendingEnrollmentOfType, type ShownEnrollment } from '../../flows/factors/pending-enrollment.js';
import { requestMeta } from '../../http/authenticate.js';
import { findFactor, listFactorsOfUser } from '../../store/repositories/factors.js';
import { clearCookie, cookieNames, readCookie } from '../cookies.js';
import { errorsFrom } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { formValue, type PageKit } from '../kit.js';
import { clearSignIn, pendingSignIn, setSignedIn, signedInSession } from '../page-session.js';
import { signInReturnTarget } from '../redirects.js';
import { renderEnrollment, renderOutOfTries, type AttemptBudget, type EnrollmentFormState } from './enrollment-form.js';
import { renderFactorChooser } from './factor-chooser.js';
import { renderRecoveryCodes } from './recovery-codes.js';
import { finishPasskeyUpgrade, rememberPasskeyUpgrade } from './passkey-upgrade.js';

type Auth = PendingAuthentication | AccessAuthentication;

/** Where a setup whose sign-in ended (too slow, out of tries) sends the person: never "that sign-in expired". */
const setupExpired = '/sign-in?done=setup-expired';

export function enrollPages(app: FastifyInstance, kit: PageKit): void {
  const { ctx } = kit;

  /** Signed in, or in the middle of a first sign-in that has no factor yet. */
  const enrollingAuth = async (request: FastifyRequest, reply: FastifyReply): Promise<Auth | undefined> => {
    const signedIn = await signedInSession(ctx, request, reply);
    if (signedIn !== undefined) return signedIn;
    const pending = await pendingSignIn(ctx, request);
    if (pending === undefined) return undefined;
    return (await listFactorsOfUser(ctx.db, pending.user.id, 'active')).length === 0 ? pending : undefined;
  };

  const render = (request: FastifyRequest, reply: FastifyReply, auth: Auth, title: string, body: (csrf: string) => SafeHtml, status = 200) =>
    kit.render(request, reply, { title, signedIn: auth.kind === 'access', pending: auth.kind === 'mfa', status }, body);

  /**
   * A flow error on these pages: a step-up need becomes a detour through verification; a sign-in
   * that ended says so as what it was — a setup, of an account that stays.
   */
  const handle = (error: unknown, reply: FastifyReply, next: string): FastifyReply | { message: string } => {
    if (error instanceof TwofoldError && error.code === 'insufficient_authentication') return reply.redirect(`/account/verify?next=${encodeURIComponent(next)}`, 303);
    if (error instanceof TwofoldError && error.code === 'invalid_token') return reply.redirect(setupExpired, 303);
    // The tries left are said under the field, in words (enrollment-form.ts), not in the error.
    if (error instanceof TwofoldError && error.code === 'invalid_code') return { message: error.message };
    const errors = errorsFrom(error, 'code');
    return { message: errors.form ?? Object.values(errors.fields).join(' ') };
  };

  app.get('/enroll', async (request, reply) => {
    const auth = await enrollingAuth(request, reply);
    if (auth === undefined) return reply.redirect(setupExpired, 303);
    const title = auth.kind === 'mfa' ? 'Protect your account' : 'Add a factor';
    return kit.render(request, reply, { title, signedIn: auth.kind === 'access', pending: auth.kind === 'mfa', wide: true }, (csrf) => html`
<p class="lead">${auth.kind === 'mfa' ? 'Choose your second factor: after your password, you will confirm every sign-in with it.' : 'Another way to confirm it’s you.'}</p>
${renderFactorChooser({ offered: ctx.config.factors, firstFactor: auth.kind === 'mfa', csrf })}`);
  });

  /** How many tries a code has left in this session, for the line under the field. */
  const budgetOf = (auth: Auth, remaining?: number): AttemptBudget => {
    const max = ctx.config.mfa.maxAttemptsPerToken;
    const left = remaining ?? Math.max(0, max - auth.session.mfa_attempts);
    if (auth.kind === 'access') return { remaining: left, firstSignIn: false };
    return { remaining: left, firstSignIn: true, minutesLeft: Math.max(1, Math.ceil((auth.session.expires_at - ctx.now()) / 60_000)) };
  };

  const showEnrollment = (request: FastifyRequest, reply: FastifyReply, auth: Auth, shown: Enrollment | ShownEnrollment, state: Partial<EnrollmentFormState> & { status?: number } = {}) =>
    render(
      request,
      reply,
      auth,
      titles[shown.type] ?? 'Confirm your new factor',
      (csrf) => renderEnrollment(shown, csrf, { budget: state.budget ?? budgetOf(auth), error: state.error, resendAfterSeconds: state.resendAfterSeconds ?? 0 }),
      state.status ?? 200,
    );

  /** A pending enrollment of this session shown again; when there is none left, a way to start over. */
  const reshow = async (
    request: FastifyRequest,
    reply: FastifyReply,
    auth: Auth,
    input: { factorId: string; challengeId?: string | undefined; error?: string | undefined; remaining?: number | undefined; resendAfterSeconds?: number },
  ) => {
    let shown: ShownEnrollment | undefined;
    try {
      shown = await showPendingEnrollment(ctx, auth, input.factorId, input.challengeId);
    } catch (error) {
      const failure = handle(error, reply, '/enroll');
      if (!('message' in failure)) return failure;
    }
    if (shown === undefined) return startAgain(request, reply, auth, input.error ?? 'This setup is no longer open.');
    const status = input.error === undefined ? 200 : 400;
    return showEnrollment(request, reply, auth, shown, { error: input.error, budget: budgetOf(auth, input.remaining), status, resendAfterSeconds: input.resendAfterSeconds ?? 0 });
  };

  /** Nothing left to show (the factor was confirmed elsewhere, replaced or removed): choose again. */
  const startAgain = (request: FastifyRequest, reply: FastifyReply, auth: Auth, message: string) =>
    render(request, reply, auth, 'Confirm your new factor', () => html`<p class="error" role="alert">${message}</p><p><a class="button" href="/enroll">Start again</a></p>`, 400);

  /**
   * The last try failed: the flow ended the pending sign-in (or, adding a factor, the session).
   * The account stays; the page says so and offers the password form that leads back to setup.
   */
  const outOfTries = async (request: FastifyRequest, reply: FastifyReply, auth: Auth, factorId: string) => {
    clearSignIn(reply);
    const factor = await findFactor(ctx.db, factorId);
    const factorType = factor !== undefined && factor.user_id === auth.user.id ? factor.type : 'unknown';
    return kit.render(request, reply, { title: 'No tries left', signedIn: false, status: 401 }, (csrf) =>
      renderOutOfTries(csrf, { username: auth.user.username, firstSignIn: auth.kind === 'mfa', factorType }),
    );
  };
  /** `replaces`: a passkey this new one upgrades (removed once the new one works, passkey-upgrade.ts). */
  const start = async (request: FastifyRequest, reply: FastifyReply, input: Parameters<typeof enrollFactor>[2], replaces?: string) => {
    const auth = await enrollingAuth(request, reply);
    if (auth === undefined) return reply.redirect(setupExpired, 303);
    try {
      // A page loaded again (a reload, "back") shows the key this session is already setting up:
      // a new one would leave a dead entry in the app that scanned the first.
      const pending = input.type === 'totp' ? await showPendingEnrollmentOfType(ctx, auth, 'totp') : undefined;
      if (pending !== undefined) return showEnrollment(request, reply, auth, pending);
      const enrollment = await enrollFactor(ctx, auth, input, requestMeta(request));
      if (replaces !== undefined && auth.kind === 'access') await rememberPasskeyUpgrade(ctx, auth, enrollment.factor_id, replaces);
      return showEnrollment(request, reply, auth, enrollment, { resendAfterSeconds: ctx.config.otp.resendIntervalSeconds });
    } catch (error) {
      // After a step-up, come back here if this was a page (GET), else to the choice of factors.
      const failure = handle(error, reply, request.method === 'GET' ? request.url.split('?')[0] ?? '/enroll' : '/enroll');
      if (!('message' in failure)) return failure;
      return render(request, reply, auth, 'Add a factor', () => html`<p class="error" role="alert">${failure.message}</p><p><a href="/enroll">Back</a></p>`, 400);
    }
  };

  app.get('/enroll/totp', (request, reply) => start(request, reply, { type: 'totp' }));
  app.post('/enroll/phone', (request, reply) => start(request, reply, { type: 'sms', phone: formValue(request, 'phone') ?? '' }));
  app.post('/enroll/email', (request, reply) => start(request, reply, { type: 'email', email: formValue(request, 'email') ?? '' }));
  app.post('/enroll/passkey', (request, reply) => start(request, reply, { type: 'webauthn', label: formValue(request, 'label') || undefined }, formValue(request, 'replaces') || undefined));

  /** A new code for the phone or address being confirmed (the previous one dies). */
  app.post('/enroll/resend', async (request, reply) => {
    const auth = await enrollingAuth(request, reply);
    if (auth === undefined) return reply.redirect(setupExpired, 303);
    const factorId = formValue(request, 'factor_id') ?? '';
    let error: string | undefined;
    let challengeId: string | undefined;
    try {
      // Only a phone or address this session is confirming: never a sign-in or step-up code.
      const pending = await showPendingEnrollment(ctx, auth, factorId);
      if (pending === undefined || !('destination' in pending)) return startAgain(request, reply, auth, 'This setup is no longer open.');
      challengeId = (await startChallenge(ctx, auth, factorId, requestMeta(request))).challenge_id;
    } catch (failed) {
      const failure = handle(failed, reply, '/enroll');
      if (!('message' in failure)) return failure;
      error = failure.message;
    }
    return reshow(request, reply, auth, { factorId, challengeId, error, resendAfterSeconds: error === undefined ? ctx.config.otp.resendIntervalSeconds : 0 });
  });

  app.post('/enroll/confirm', async (request, reply) => {
    const auth = await enrollingAuth(request, reply);
    if (auth === undefined) return reply.redirect(setupExpired, 303);
    const factorId = formValue(request, 'factor_id') ?? '';
    const credentialJson = formValue(request, 'credential');
    const challengeId = formValue(request, 'challenge_id') || undefined;
    try {
      const credential = credentialJson === undefined || credentialJson === '' ? undefined : JSON.parse(credentialJson);
      // The code as typed: the flow reads it (spaces and dashes allowed) before spending anything.
      const result = await confirmFactor(ctx, auth, factorId, { code: credential === undefined ? (formValue(request, 'code') ?? '') : undefined, challenge_id: challengeId, credential }, requestMeta(request));
      if (!('recovery_codes' in result)) {
        const upgraded = auth.kind === 'access' && (await finishPasskeyUpgrade(ctx, auth, factorId, requestMeta(request)));
        return reply.redirect(upgraded ? '/account?done=passkey-upgraded' : '/account?done=factor-added', 303);
      }
      setSignedIn(ctx, reply, result);
      const returnTo = signInReturnTarget(readCookie(request, cookieNames.returnTo), { allowedRedirectOrigins: ctx.config.pages.allowedRedirectOrigins, oidcEnabled: ctx.config.oidc.enabled });
      clearCookie(reply, cookieNames.returnTo);
      return kit.render(request, reply, { title: 'Save your recovery codes', signedIn: true }, () => renderRecoveryCodes(result.recovery_codes, returnTo ?? '/account', ctx.config.serviceName));
    } catch (error) {
      const remaining = error instanceof TwofoldError ? error.extensions['attempts_remaining'] : undefined;
      if (remaining === 0) return outOfTries(request, reply, auth, factorId);
      const failure = error instanceof SyntaxError ? { message: 'The passkey answer could not be read. Try again.' } : handle(error, reply, '/enroll');
      if (!('message' in failure)) return failure;
      // The same enrollment again — the same QR code and key, the same "we sent a code" — with the
      // error and the tries left. Re-read from the pending factor (the secret from its sealed row).
      return reshow(request, reply, auth, { factorId, challengeId, error: failure.message, remaining: typeof remaining === 'number' ? remaining : undefined });
    }
  });

}

const titles: Record<string, string> = {
  totp: 'Set up your authenticator app',
  sms: 'Confirm your phone',
  email: 'Confirm your address',
  webauthn: 'Create a passkey',
};
