// Enrolling a factor: the first one right after signing up (with the pending sign-in), or another
// one from the account page (with a recent second factor — otherwise a step-up first). The QR
// code and the secret as text for manual entry; a phone number; or a passkey.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TwofoldError } from '../../errors.js';
import type { AccessAuthentication, PendingAuthentication } from '../../flows/authenticate.js';
import { confirmFactor } from '../../flows/confirm-factor.js';
import { enrollFactor, resumeOrEnrollTotp, type Enrollment } from '../../flows/enroll-factor.js';
import { requestMeta } from '../../http/authenticate.js';
import { listFactorsOfUser } from '../../store/repositories/factors.js';
import { clearCookie, cookieNames, readCookie } from '../cookies.js';
import { csrfField } from '../csrf.js';
import { codeField, errorsFrom } from '../forms.js';
import { html, trustedMarkup, type SafeHtml } from '../html.js';
import { formValue, type PageKit } from '../kit.js';
import { pendingSignIn, setSignedIn, signedInSession } from '../page-session.js';
import { allowedReturnTo } from '../redirects.js';
import { renderFactorChooser } from './factor-chooser.js';
import { renderRecoveryCodes } from './recovery-codes.js';

type Auth = PendingAuthentication | AccessAuthentication;

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

  /** A flow error on these pages: a step-up need becomes a detour through verification. */
  const handle = (error: unknown, reply: FastifyReply, next: string): FastifyReply | { message: string } => {
    if (error instanceof TwofoldError && error.code === 'insufficient_authentication') return reply.redirect(`/account/verify?next=${encodeURIComponent(next)}`, 303);
    if (error instanceof TwofoldError && error.code === 'invalid_token') return reply.redirect('/sign-in?done=sign-in-expired', 303);
    const errors = errorsFrom(error, 'code');
    return { message: errors.form ?? Object.values(errors.fields).join(' ') };
  };

  const enrollmentForm = (enrollment: Enrollment, csrf: string, error?: string) => {
    const hidden = html`${csrfField(csrf)}<input type="hidden" name="factor_id" value="${enrollment.factor_id}">`;
    if ('secret' in enrollment) {
      return html`<ol>
  <li>Open your authenticator app (Google Authenticator, 1Password, Authy…) and scan this code.</li>
  <li>Or type the key in by hand.</li>
  <li>Enter the 6-digit code the app shows.</li>
</ol>
<div class="card">
  <div class="qr" role="img" aria-label="QR code for your authenticator app">${trustedMarkup(enrollment.qr_svg)}</div>
  <p class="row">Key: ${secretInGroups(enrollment.secret)}<button type="button" class="secondary" data-copy-target="totp-secret" data-copy-compact hidden>Copy key</button></p>
</div>
<form class="stack card" method="post" action="/enroll/confirm">${hidden}${codeField(error)}<button type="submit">Confirm</button></form>`;
    }
    if ('options' in enrollment) {
      return html`<form class="stack card" method="post" action="/enroll/confirm" data-webauthn="register" data-autostart="true" data-options="${JSON.stringify(enrollment.options)}">
  ${hidden}<input type="hidden" name="credential" value="">
  <p>Follow your device's prompt to create a passkey for this account: it will want its PIN or biometrics, whichever it uses.</p>
  <noscript><p class="error">Passkeys need JavaScript in this browser.</p></noscript>
  ${error === undefined ? '' : html`<p class="error" role="alert">${error}</p>`}
  <button type="button" data-passkey hidden>Create passkey</button>
</form>`;
    }
    return html`<form class="stack card" method="post" action="/enroll/confirm">
  ${hidden}<input type="hidden" name="challenge_id" value="${enrollment.challenge_id}">
  <p>We sent a code to ${enrollment.destination}.</p>
  ${'notice' in enrollment && enrollment.notice !== undefined ? html`<p class="notice">${enrollment.notice}</p>` : ''}
  ${codeField(error)}
  <button type="submit">Confirm</button>
</form>`;
  };

  app.get('/enroll', async (request, reply) => {
    const auth = await enrollingAuth(request, reply);
    if (auth === undefined) return reply.redirect('/sign-in?done=sign-in-expired', 303);
    const title = auth.kind === 'mfa' ? 'Protect your account' : 'Add a factor';
    return kit.render(request, reply, { title, signedIn: auth.kind === 'access', pending: auth.kind === 'mfa', wide: true }, (csrf) => html`
<p class="lead">${auth.kind === 'mfa' ? 'Choose your second factor: after your password, you will confirm every sign-in with it.' : 'Another way to confirm it’s you.'}</p>
${renderFactorChooser({ offered: ctx.config.factors, firstFactor: auth.kind === 'mfa', csrf })}`);
  });

  const start = async (request: FastifyRequest, reply: FastifyReply, input: Parameters<typeof enrollFactor>[2], title: string) => {
    const auth = await enrollingAuth(request, reply);
    if (auth === undefined) return reply.redirect('/sign-in?done=sign-in-expired', 303);
    try {
      // The page's own setup, reloaded, is shown again rather than replaced (one secret, one event).
      const enrollment = input.type === 'totp' ? await resumeOrEnrollTotp(ctx, auth, requestMeta(request)) : await enrollFactor(ctx, auth, input, requestMeta(request));
      return render(request, reply, auth, title, (csrf) => enrollmentForm(enrollment, csrf));
    } catch (error) {
      // After a step-up, come back here if this was a page (GET), else to the choice of factors.
      const failure = handle(error, reply, request.method === 'GET' ? request.url.split('?')[0] ?? '/enroll' : '/enroll');
      if (!('message' in failure)) return failure;
      return render(request, reply, auth, 'Add a factor', () => html`<p class="error" role="alert">${failure.message}</p><p><a href="/enroll">Back</a></p>`, 400);
    }
  };

  app.get('/enroll/totp', (request, reply) => start(request, reply, { type: 'totp' }, 'Set up your authenticator app'));
  app.post('/enroll/phone', (request, reply) => start(request, reply, { type: 'sms', phone: formValue(request, 'phone') ?? '' }, 'Confirm your phone'));
  app.post('/enroll/email', (request, reply) => start(request, reply, { type: 'email', email: formValue(request, 'email') ?? '' }, 'Confirm your address'));
  app.post('/enroll/passkey', (request, reply) => start(request, reply, { type: 'webauthn', label: formValue(request, 'label') || undefined }, 'Create a passkey'));

  app.post('/enroll/confirm', async (request, reply) => {
    const auth = await enrollingAuth(request, reply);
    if (auth === undefined) return reply.redirect('/sign-in?done=sign-in-expired', 303);
    const factorId = formValue(request, 'factor_id') ?? '';
    const credentialJson = formValue(request, 'credential');
    try {
      const credential = credentialJson === undefined || credentialJson === '' ? undefined : JSON.parse(credentialJson);
      const result = await confirmFactor(ctx, auth, factorId, { code: credential === undefined ? (formValue(request, 'code') ?? '').trim() : undefined, challenge_id: formValue(request, 'challenge_id') || undefined, credential }, requestMeta(request));
      if (!('recovery_codes' in result)) return reply.redirect('/account?done=factor-added', 303);
      setSignedIn(ctx, reply, result);
      const returnTo = allowedReturnTo(readCookie(request, cookieNames.returnTo), ctx.config.pages.allowedRedirectOrigins);
      clearCookie(reply, cookieNames.returnTo);
      return kit.render(request, reply, { title: 'Save your recovery codes', signedIn: true }, () => renderRecoveryCodes(result.recovery_codes, returnTo ?? '/account', ctx.config.serviceName));
    } catch (error) {
      const failure = error instanceof SyntaxError ? { message: 'The passkey answer could not be read. Try again.' } : handle(error, reply, '/enroll');
      if (!('message' in failure)) return failure;
      const challengeId = formValue(request, 'challenge_id') || undefined;
      // A wrong code: the same form again (the secret is not shown twice); a passkey: start over.
      return render(
        request,
        reply,
        auth,
        'Confirm your new factor',
        (csrf) => html`${
          credentialJson === undefined || credentialJson === ''
            ? html`<form class="stack card" method="post" action="/enroll/confirm">
  ${csrfField(csrf)}<input type="hidden" name="factor_id" value="${factorId}">
  ${challengeId === undefined ? '' : html`<input type="hidden" name="challenge_id" value="${challengeId}">`}
  ${codeField(failure.message)}
  <button type="submit">Confirm</button>
</form>`
            : html`<p class="error" role="alert">${failure.message}</p>`
        }
<p><a href="/enroll">Start again</a></p>`,
        400,
      );
    }
  });
}

/**
 * The key in groups of four that never break inside a group on a narrow screen: each group is an
 * inline-block, spaced by CSS rather than by space characters, so selecting and copying the key
 * gives it exactly as an authenticator app wants it (the copy button does the same).
 */
function secretInGroups(secret: string): SafeHtml {
  return html`<span class="secret" id="totp-secret" data-testid="totp-secret">${(secret.match(/.{1,4}/g) ?? []).map((group) => html`<span class="group">${group}</span>`)}</span>`;
}
