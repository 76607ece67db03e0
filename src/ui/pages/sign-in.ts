// Sign in: the password step (nothing on the page tells whether a username exists), then the
// second-factor prompt — which names the account and offers "Not you? Cancel", ending that sign-in
// on the server; a `return_to` on an allow-listed origin is where a person lands after. Signing in
// with a passkey alone is passkey-sign-in.ts, from the same page.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TwofoldError } from '../../errors.js';
import { authenticateMfaToken } from '../../flows/sessions/authenticate.js';
import { login } from '../../flows/sign-in/login.js';
import { deviceTokenProof } from '../../flows/factors/trusted-devices.js';
import { verifySecondFactor } from '../../flows/sign-in/verify-second-factor.js';
import { cancelPendingLogin, logout } from '../../flows/sessions/logout.js';
import { requestMeta } from '../../http/authenticate.js';
import { clearCookie, cookieNames, readCookie, setCookie } from '../cookies.js';
import { csrfField } from '../csrf.js';
import { html } from '../html.js';
import { formValue, noticeFrom, type PageKit } from '../kit.js';
import { clearSignIn, pendingSignIn, setPending, setSignedIn, signedInSession } from '../page-session.js';
import { redirectAfterSignIn, signInReturn } from '../after-sign-in.js';
import { renderSignInForm } from './sign-in-form.js';
import { renderFactorPrompt, type PromptState } from './factor-prompt.js';
import { challengeState, promptFailure, promptState, startPromptChallenge, verifyFromForm } from './second-factor.js';

const paths = { action: '/sign-in/verify', challengeAction: '/sign-in/challenge' };

export function signInPages(app: FastifyInstance, kit: PageKit): void {
  const { ctx } = kit;
  const signInForm = (csrf: string, username: string, error: string | undefined) => renderSignInForm(ctx, csrf, { username, error });
  const returnTarget = (value: unknown) => signInReturn(ctx, value);
  const afterSignIn = (request: FastifyRequest, reply: FastifyReply) => redirectAfterSignIn(ctx, request, reply);

  const prompt = async (request: FastifyRequest, reply: FastifyReply, extra: Partial<PromptState>, status = 200) => {
    const auth = await pendingSignIn(ctx, request);
    if (auth === undefined) return reply.redirect('/sign-in?done=sign-in-expired', 303);
    const state = await promptState(kit, auth, paths, { rememberDays: ctx.config.trustedDeviceDays, ...extra });
    return kit.render(request, reply, { title: 'Confirm it’s you', signedIn: false, pending: true, status }, (csrf) => html`${notYou(csrf, auth.user.username)}${renderFactorPrompt(state, csrf)}`);
  };

  app.get('/sign-in', async (request, reply) => {
    const returnTo = returnTarget((request.query as Record<string, unknown>)['return_to']);
    if (returnTo !== undefined) setCookie(reply, cookieNames.returnTo, returnTo, 30 * 60);
    // again=1: an application asked for a fresh sign-in (OpenID prompt=login), so the form is shown even when signed in.
    const again = (request.query as Record<string, unknown>)['again'] === '1';
    if (!again && (await signedInSession(ctx, request, reply)) !== undefined) return afterSignIn(request, reply);
    return kit.render(request, reply, { title: 'Sign in', signedIn: false, notice: noticeFrom(request) }, (csrf) => signInForm(csrf, '', undefined));
  });

  app.post('/sign-in', async (request, reply) => {
    const username = formValue(request, 'username') ?? '';
    try {
      const result = await login(ctx, { username, password: formValue(request, 'password') ?? '' }, requestMeta(request));
      setPending(ctx, reply, result.mfa_token);
      if (result.next === 'enroll') return reply.redirect('/enroll', 303);
      // A remembered browser stands in for the second factor (aal1) — if it still is remembered.
      const deviceToken = readCookie(request, cookieNames.device);
      if (deviceToken !== undefined) {
        const auth = await authenticateMfaToken(ctx, result.mfa_token);
        if ((await deviceTokenProof(ctx, auth.user.id, deviceToken)) !== undefined) {
          setSignedIn(ctx, reply, await verifySecondFactor(ctx, auth, { device_token: deviceToken }, requestMeta(request)));
          return afterSignIn(request, reply);
        }
        clearCookie(reply, cookieNames.device);
      }
      return reply.redirect('/sign-in/verify', 303);
    } catch (error) {
      if (!(error instanceof TwofoldError)) throw error;
      return kit.render(request, reply, { title: 'Sign in', signedIn: false, status: error.status }, (csrf) => signInForm(csrf, username, error.message));
    }
  });

  app.get('/sign-in/verify', async (request, reply) => {
    const method = (request.query as Record<string, unknown>)['method'] === 'recovery' ? 'recovery' : undefined;
    return prompt(request, reply, { method });
  });

  app.post('/sign-in/challenge', async (request, reply) => {
    const auth = await pendingSignIn(ctx, request);
    if (auth === undefined) return reply.redirect('/sign-in?done=sign-in-expired', 303);
    try {
      return await prompt(request, reply, { challenge: await startPromptChallenge(kit, auth, request) });
    } catch (error) {
      const failure = promptFailure(error, reply, '/sign-in?done=sign-in-expired');
      return 'message' in failure ? prompt(request, reply, { error: failure.message }, 400) : failure;
    }
  });

  app.post('/sign-in/verify', async (request, reply) => {
    const auth = await pendingSignIn(ctx, request);
    if (auth === undefined) return reply.redirect('/sign-in?done=sign-in-expired', 303);
    try {
      const tokens = await verifyFromForm(kit, auth, request);
      setSignedIn(ctx, reply, tokens);
      if ('device_token' in tokens && typeof tokens.device_token === 'string') setCookie(reply, cookieNames.device, tokens.device_token, ctx.config.trustedDeviceDays * 86400);
      return afterSignIn(request, reply);
    } catch (error) {
      const failure = promptFailure(error, reply, '/sign-in?done=sign-in-expired');
      if (!('message' in failure)) return failure;
      const method = formValue(request, 'recovery_code') !== undefined ? 'recovery' : undefined;
      return prompt(request, reply, { method, error: failure.message, challenge: await challengeState(kit, auth, formValue(request, 'challenge_id') || undefined) }, 401);
    }
  });

  // "Not you? Cancel": the pending sign-in ends on the server (its mfa_token stops working), and
  // the sign-in page starts empty — the username is not carried back.
  app.post('/sign-in/cancel', async (request, reply) => {
    const auth = await pendingSignIn(ctx, request);
    if (auth !== undefined) await cancelPendingLogin(ctx, auth, requestMeta(request));
    clearCookie(reply, cookieNames.pending);
    clearCookie(reply, cookieNames.returnTo);
    return reply.redirect('/sign-in?done=sign-in-cancelled', 303);
  });

  app.post('/sign-out', async (request, reply) => {
    const auth = await signedInSession(ctx, request, reply);
    if (auth !== undefined) await logout(ctx, auth, readCookie(request, cookieNames.refresh), requestMeta(request));
    clearSignIn(reply);
    return reply.redirect('/sign-in?done=signed-out', 303);
  });
}

/** Whose sign-in this is, and the way out for someone who is not them (a shared computer, a wrong account). */
function notYou(csrf: string, username: string) {
  return html`<form method="post" action="/sign-in/cancel" class="not-you row">
  ${csrfField(csrf)}
  <span>Signing in as <strong data-username>${username}</strong>.</span>
  <button type="submit" class="link">Not you? Cancel</button>
</form>`;
}
