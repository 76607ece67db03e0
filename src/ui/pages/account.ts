// The account page: factors (add, rename, remove), recovery codes, active sessions (end them),
// recent security events (older ones a page at a time, /account/events) and the password (change,
// remove, set again: account-password.ts) — each
// action through the API's flows, with a step-up detour (/account/verify) where the flow asks for
// a recent second factor. Devices are named from what their browser says ("Chrome on Linux");
// times are written in UTC and shown in the reader's zone by the page script. Passkeys — what each
// can do, the offer of one that signs in alone, the WebAuthn signals — are account-passkeys.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TwofoldError } from '../../errors.js';
import type { AccessAuthentication } from '../../flows/sessions/authenticate.js';
import { changePassword } from '../../flows/account/change-password.js';
import { hasPassword } from '../../core/password/no-password.js';
import { canGoPasswordless, readPasswordlessStanding } from '../../flows/factors/can-go-passwordless.js';
import { removeOwnPassword } from '../../flows/account/remove-password.js';
import { listFactors, regenerateRecoveryCodes, removeOwnFactor, renameOwnFactor } from '../../flows/factors/manage-factors.js';
import { describeMe } from '../../flows/account/me.js';
import { changeOwnEmail, resendEmailVerification } from '../../flows/account/email-verification.js';
import { listOwnSecurityEvents, type SecurityEventView } from '../../flows/account/recent-events.js';
import { listOwnSessions, revokeOwnSession } from '../../flows/sessions/sessions.js';
import { forgetOwnTrustedDevice, listOwnTrustedDevices } from '../../flows/factors/trusted-devices.js';
import type { FactorView } from '../../flows/shared/views.js';
import { requestMeta } from '../../http/authenticate.js';
import { csrfField } from '../csrf.js';
import { deviceName } from '../device-name.js';
import { errorsFrom, field } from '../forms.js';
import { html, type SafeHtml } from '../html.js';
import { formValue, noticeFrom, type PageKit } from '../kit.js';
import { eventName } from '../event-names.js';
import { factorNames } from '../factor-names.js';
import { localTime } from '../local-time.js';
import { clearSignIn, setSignedIn, signedInSession } from '../page-session.js';
import { safeLocalPath } from '../redirects.js';
import { renderPasswordSection } from './account-password.js';
import { renderFactorPrompt, type PromptState } from './factor-prompt.js';
import { passkeyAbility, passkeyFacts, renderPasskeyOffer, renderPasskeySignal } from './account-passkeys.js';
import { renderRecoveryCodes } from './recovery-codes.js';
import { challengeState, promptFailure, promptState, startPromptChallenge, verifyFromForm } from './second-factor.js';



function factorDetail(factor: FactorView): SafeHtml {
  const parts = [factor.destination ?? '', factor.status === 'pending' ? 'setup not finished' : '', factor.last_used_at === null ? '' : html`last used ${localTime(factor.last_used_at)}`];
  return html`${parts.filter((part) => part !== '').map((part, index) => html`${index === 0 ? '' : ' · '}${part}`)}`;
}

/** Events on the account page; older ones are on /account/events, this many a page. */
const eventsOnAccountPage = 10;
const eventsPerPage = 20;
/** The cursor GET /v1/me/events takes as `before` (an event id), checked the same way. */
const eventCursor = /^evt_[A-Za-z0-9_-]{1,60}$/;

/** One page of the person's events after `before`, and the cursor of the next (one more row read to know whether there is one). */
async function eventPage(ctx: PageKit['ctx'], auth: AccessAuthentication, limit: number, before?: string): Promise<{ events: SecurityEventView[]; nextBefore: string | undefined }> {
  const rows = await listOwnSecurityEvents(ctx, auth, { limit: limit + 1, before });
  const events = rows.slice(0, limit);
  return { events, nextBefore: rows.length > limit ? events.at(-1)?.id : undefined };
}

function olderEventsLink(nextBefore: string | undefined): SafeHtml | string {
  return nextBefore === undefined ? '' : html`<p><a class="button secondary" href="/account/events?before=${encodeURIComponent(nextBefore)}" data-older-events>Show older events</a></p>`;
}

export function accountPages(app: FastifyInstance, kit: PageKit): void {
  const { ctx } = kit;
  const verifyPaths = { action: '/account/verify', challengeAction: '/account/challenge' };

  const requireSignedIn = async (request: FastifyRequest, reply: FastifyReply): Promise<AccessAuthentication | undefined> => {
    const auth = await signedInSession(ctx, request, reply);
    if (auth === undefined) reply.redirect('/sign-in?done=sign-in-expired', 303);
    return auth;
  };

  const renderAccount = async (request: FastifyRequest, reply: FastifyReply, auth: AccessAuthentication, extra: { notice?: string; passwordErrors?: Record<string, string>; emailErrors?: Record<string, string> } = {}, status = 200) => {
    const [me, factors, sessions, events, devices, standing, passkeys] = await Promise.all([
      describeMe(ctx, auth),
      listFactors(ctx, auth),
      listOwnSessions(ctx, auth),
      eventPage(ctx, auth, eventsOnAccountPage),
      listOwnTrustedDevices(ctx, auth),
      readPasswordlessStanding(ctx, ctx.db, auth.user.id),
      passkeyFacts(ctx, auth),
    ]);
    const passwordless = canGoPasswordless(standing);
    const notice = extra.notice === undefined ? noticeFrom(request) : { kind: 'error' as const, text: extra.notice };
    return kit.render(request, reply, { title: `Hello, ${me.user.username}`, signedIn: true, wide: true, notice, status }, (csrf) => html`
${passkeys.offer ? renderPasskeyOffer(csrf) : ''}
${renderPasskeySignal(ctx, auth, passkeys)}
<section aria-labelledby="factors-heading">
  <h2 id="factors-heading">Second factors</h2>
  <table>
    <thead><tr><th scope="col">Factor</th><th scope="col">Name</th><th scope="col">Details</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>
    ${factors.map((factor) => html`<tr data-factor-id="${factor.id}">
      <td data-label="Factor">${factorNames[factor.type] ?? factor.type}</td>
      <td data-label="Name"><form method="post" action="/account/factors/${factor.id}/rename" class="row">${csrfField(csrf)}<label class="visually-hidden" for="label-${factor.id}">Name</label><input id="label-${factor.id}" name="label" type="text" value="${factor.label ?? ''}" maxlength="64" placeholder="${factorNames[factor.type] ?? ''}"><button type="submit" class="secondary">Rename</button></form></td>
      <td data-label="Details">${factorDetail(factor)} ${passkeyAbility(factor, passkeys)}</td>
      <td><form method="post" action="/account/factors/${factor.id}/remove">${csrfField(csrf)}<button type="submit" class="danger">Remove</button></form></td>
    </tr>`)}
    </tbody>
  </table>
  <p><a class="button secondary" href="/enroll">Add a factor</a></p>
</section>
<section aria-labelledby="email-heading">
  <h2 id="email-heading">E-mail address</h2>
  ${
    me.user.email === null
      ? html`<p class="muted">No address: password reset codes can only go to a verified phone.</p>`
      : me.user.email_verified
        ? html`<p data-email-status="verified">${me.user.email} — <strong>confirmed</strong>. Password reset codes and security notices go there.</p>`
        : html`<p data-email-status="unverified">${me.user.email} — <strong>not confirmed yet</strong>. Until you follow the link we mailed to it, it receives no reset codes and no security notices.</p>
  <form method="post" action="/account/email/verification">${csrfField(csrf)}<button type="submit" class="secondary">Send a new link</button></form>`
  }
  <form class="stack card" method="post" action="/account/email" novalidate>
    ${csrfField(csrf)}
    ${field({ label: me.user.email === null ? 'Add an address' : 'New address', name: 'email', type: 'email', autocomplete: 'email', error: extra.emailErrors?.['email'], maxlength: 320 })}
    <button type="submit" class="secondary">Save the address</button>
  </form>
</section>
<section aria-labelledby="recovery-heading">
  <h2 id="recovery-heading">Recovery codes</h2>
  <p>${me.recovery_codes_remaining} unused recovery code${me.recovery_codes_remaining === 1 ? '' : 's'} left.</p>
  <form method="post" action="/account/recovery-codes">${csrfField(csrf)}<button type="submit" class="secondary">Get new recovery codes</button></form>
</section>
<section aria-labelledby="sessions-heading">
  <h2 id="sessions-heading">Where you're signed in</h2>
  <table>
    <thead><tr><th scope="col">Device (as its browser describes itself)</th><th scope="col">Last active</th><th scope="col">From</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>
    ${sessions.map((session) => html`<tr data-session-id="${session.id}">
      <td data-label="Device"><span title="${session.user_agent ?? ''}" data-device>${deviceName(session.user_agent)}</span>${session.current ? html` <strong>(this browser)</strong>` : ''}</td>
      <td data-label="Last active">${localTime(session.last_active_at)}</td>
      <td data-label="From">${session.ip ?? ''}</td>
      <td><form method="post" action="/account/sessions/${session.id}/revoke">${csrfField(csrf)}<button type="submit" class="danger">${session.current ? 'Sign out' : 'End session'}</button></form></td>
    </tr>`)}
    </tbody>
  </table>
</section>
${
      devices.length === 0
        ? ''
        : html`<section aria-labelledby="devices-heading">
  <h2 id="devices-heading">Remembered browsers</h2>
  <p class="muted">These browsers sign in without asking for a second factor (but must confirm one again before changing anything).</p>
  <table>
    <thead><tr><th scope="col">Device (as its browser described itself)</th><th scope="col">Until</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${devices.map((device) => html`<tr data-device-id="${device.id}"><td data-label="Device"><span title="${device.label ?? ''}" data-device>${deviceName(device.label)}</span></td><td data-label="Until">${localTime(device.expires_at, 'day')}</td><td><form method="post" action="/account/devices/${device.id}/forget">${csrfField(csrf)}<button type="submit" class="danger">Forget</button></form></td></tr>`)}</tbody>
  </table>
</section>`
    }
<section aria-labelledby="events-heading">
  <h2 id="events-heading">Recent security events</h2>
  ${renderEvents(events.events)}
  ${olderEventsLink(events.nextBefore)}
</section>
${renderPasswordSection({ hasPassword: me.has_password, verdict: passwordless, passkeysOffered: ctx.config.factors.has('webauthn'), minLength: ctx.config.password.minLength, errors: extra.passwordErrors }, csrf)}`);
  };

  /** A flow error from an account action: step-up detour, signed-out, or a message on the page. */
  const actionFailed = async (error: unknown, request: FastifyRequest, reply: FastifyReply, auth: AccessAuthentication) => {
    if (error instanceof TwofoldError && error.code === 'insufficient_authentication') return reply.redirect('/account/verify?next=/account', 303);
    if (error instanceof TwofoldError && error.code === 'invalid_token') {
      clearSignIn(reply);
      return reply.redirect('/sign-in?done=sign-in-expired', 303);
    }
    if (!(error instanceof TwofoldError)) throw error;
    return renderAccount(request, reply, auth, { notice: error.message }, error.status);
  };

  const action = (path: string, run: (auth: AccessAuthentication, request: FastifyRequest, params: Record<string, string>) => Promise<string>) =>
    app.post(path, async (request, reply) => {
      const auth = await requireSignedIn(request, reply);
      if (auth === undefined) return reply;
      try {
        return reply.redirect(await run(auth, request, request.params as Record<string, string>), 303);
      } catch (error) {
        return actionFailed(error, request, reply, auth);
      }
    });

  app.get('/', async (request, reply) => {
    if ((await signedInSession(ctx, request, reply)) !== undefined) return reply.redirect('/account', 303);
    return kit.render(request, reply, { title: `Welcome to ${ctx.config.serviceName}`, signedIn: false }, () => html`
<p class="lead">Sign in with your password and a second factor: an authenticator app, a text message, or a passkey.</p>
<div class="row"><a class="button" href="/sign-up">Create an account</a><a class="button secondary" href="/sign-in">Sign in</a></div>`);
  });

  app.get('/account', async (request, reply) => {
    const auth = await requireSignedIn(request, reply);
    return auth === undefined ? reply : renderAccount(request, reply, auth);
  });

  // Older security events, a page at a time after the cursor (the last event shown), as GET /v1/me/events pages them.
  app.get('/account/events', async (request, reply) => {
    const auth = await requireSignedIn(request, reply);
    if (auth === undefined) return reply;
    const before = (request.query as Record<string, unknown>)['before'];
    if (before !== undefined && (typeof before !== 'string' || !eventCursor.test(before))) throw new TwofoldError('invalid_request', 'That link to older events is not one this site made. Go back to your account and follow it from there.');
    const page = await eventPage(ctx, auth, eventsPerPage, before);
    return kit.render(request, reply, { title: 'Security events', signedIn: true, wide: true }, () => html`
<p class="lead">What happened on your account, newest first.</p>
${renderEvents(page.events)}
${olderEventsLink(page.nextBefore)}
<p><a href="/account">Back to your account</a></p>`);
  });

  action('/account/factors/:id/rename', async (auth, request, params) => {
    await renameOwnFactor(ctx, auth, params['id'] ?? '', formValue(request, 'label') ?? null, requestMeta(request));
    return '/account?done=factor-renamed';
  });

  action('/account/factors/:id/remove', async (auth, request, params) => {
    await removeOwnFactor(ctx, auth, params['id'] ?? '', requestMeta(request));
    return '/account?done=factor-removed';
  });

  action('/account/sessions/:id/revoke', async (auth, request, params) => {
    await revokeOwnSession(ctx, auth, params['id'] ?? '', requestMeta(request));
    return params['id'] === auth.session.id ? '/sign-in?done=signed-out' : '/account?done=session-ended';
  });

  action('/account/devices/:id/forget', async (auth, request, params) => {
    await forgetOwnTrustedDevice(ctx, auth, params['id'] ?? '', requestMeta(request));
    return '/account?done=device-forgotten';
  });

  app.post('/account/password', async (request, reply) => {
    const auth = await requireSignedIn(request, reply);
    if (auth === undefined) return reply;
    try {
      await changePassword(ctx, auth, { currentPassword: formValue(request, 'current_password') ?? '', newPassword: formValue(request, 'new_password') ?? '' }, requestMeta(request));
      return reply.redirect(hasPassword(auth.user) ? '/account?done=password-changed' : '/account?done=password-set', 303);
    } catch (error) {
      if (error instanceof TwofoldError && (error.code === 'weak_password' || error.code === 'invalid_credentials')) {
        const fields = error.code === 'weak_password' ? errorsFrom(error, 'new_password').fields : { current_password: error.message };
        return renderAccount(request, reply, auth, { passwordErrors: fields }, error.status);
      }
      return actionFailed(error, request, reply, auth);
    }
  });

  // Going passwordless (PW-15): the flow asks for the step-up and the passkeys it needs.
  action('/account/password/remove', async (auth, request) => {
    await removeOwnPassword(ctx, auth, requestMeta(request));
    return '/account?done=password-removed';
  });

  action('/account/email/verification', async (auth, request) => {
    await resendEmailVerification(ctx, auth, requestMeta(request));
    return '/account?done=verification-sent';
  });

  app.post('/account/email', async (request, reply) => {
    const auth = await requireSignedIn(request, reply);
    if (auth === undefined) return reply;
    try {
      await changeOwnEmail(ctx, auth, { email: formValue(request, 'email') ?? '' }, requestMeta(request));
      return reply.redirect('/account?done=email-changed', 303);
    } catch (error) {
      if (error instanceof TwofoldError && error.code === 'invalid_request') return renderAccount(request, reply, auth, { emailErrors: { email: error.message } }, error.status);
      return actionFailed(error, request, reply, auth);
    }
  });

  app.post('/account/recovery-codes', async (request, reply) => {
    const auth = await requireSignedIn(request, reply);
    if (auth === undefined) return reply;
    try {
      const codes = await regenerateRecoveryCodes(ctx, auth, requestMeta(request));
      return kit.render(request, reply, { title: 'Your new recovery codes', signedIn: true }, () => renderRecoveryCodes(codes, '/account', ctx.config.serviceName));
    } catch (error) {
      return actionFailed(error, request, reply, auth);
    }
  });

  // Step-up: prove a factor again with the signed-in session, then go on to `next`.
  const prompt = async (request: FastifyRequest, reply: FastifyReply, auth: AccessAuthentication, extra: Partial<PromptState>, status = 200) => {
    const state = await promptState(kit, auth, verifyPaths, { next: safeLocalPath(formValue(request, 'next') ?? (request.query as Record<string, unknown>)['next'], '/account'), ...extra });
    // An application that asked for a phishing-resistant sign-in (the OpenID Provider's phr) is
    // answered by a passkey only; the page's own forms keep saying so, so that the page shown again
    // (after "Use passkey", or a refused answer) offers passkeys only too. (What the application
    // gets is decided at the provider, whatever is answered here.)
    const passkeysOnly = (request.query as Record<string, unknown>)['factor'] === 'passkey';
    // The admin console takes no e-mail code as its recent second factor (requireAdmin, OB-05):
    // offering one there would send the admin round in a circle.
    const next = state.next ?? '';
    const forAdmin = next === '/admin' || next.startsWith('/admin/') || next.startsWith('/admin?');
    const shown = passkeysOnly
      ? { ...state, factors: state.factors.filter((factor) => factor.type === 'webauthn'), recoveryEnabled: false, action: `${state.action}?factor=passkey`, challengeAction: `${state.challengeAction}?factor=passkey` }
      : forAdmin
        ? { ...state, factors: state.factors.filter((factor) => factor.type !== 'email') }
        : state;
    return kit.render(request, reply, { title: 'Confirm it’s you', signedIn: true, status, notice: { kind: 'info', text: 'This change needs a second factor from the last few minutes.' } }, (csrf) => renderFactorPrompt(shown, csrf));
  };

  app.get('/account/verify', async (request, reply) => {
    const auth = await requireSignedIn(request, reply);
    if (auth === undefined) return reply;
    return prompt(request, reply, auth, { method: (request.query as Record<string, unknown>)['method'] === 'recovery' ? 'recovery' : undefined });
  });

  app.post('/account/challenge', async (request, reply) => {
    const auth = await requireSignedIn(request, reply);
    if (auth === undefined) return reply;
    try {
      return await prompt(request, reply, auth, { challenge: await startPromptChallenge(kit, auth, request) });
    } catch (error) {
      const failure = promptFailure(error, reply, '/sign-in?done=sign-in-expired');
      return 'message' in failure ? prompt(request, reply, auth, { error: failure.message }, 400) : failure;
    }
  });

  app.post('/account/verify', async (request, reply) => {
    const auth = await requireSignedIn(request, reply);
    if (auth === undefined) return reply;
    const next = safeLocalPath(formValue(request, 'next'), '/account');
    try {
      setSignedIn(ctx, reply, await verifyFromForm(kit, auth, request));
      return reply.redirect(next === '/account' ? '/account?done=verified' : next, 303);
    } catch (error) {
      const failure = promptFailure(error, reply, '/sign-in?done=sign-in-expired');
      if (!('message' in failure)) return failure;
      const method = formValue(request, 'recovery_code') !== undefined ? 'recovery' : undefined;
      return prompt(request, reply, auth, { method, error: failure.message, challenge: await challengeState(kit, auth, formValue(request, 'challenge_id') || undefined) }, 401);
    }
  });
}

function renderEvents(events: SecurityEventView[]): SafeHtml {
  if (events.length === 0) return html`<p class="muted">Nothing yet.</p>`;
  return html`<table>
  <thead><tr><th scope="col">What</th><th scope="col">When</th><th scope="col">From</th></tr></thead>
  <tbody>${events.map(
    (event) =>
      html`<tr data-event-id="${event.id}"><td data-label="What">${eventName(event.type)}${event.count > 1 ? ` (${event.count} times)` : ''}</td><td data-label="When">${localTime(event.created_at)}</td><td data-label="From">${event.ip ?? ''}</td></tr>`,
  )}</tbody>
</table>`;
}
