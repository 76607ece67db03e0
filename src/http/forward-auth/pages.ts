// The browser side of forward-auth, on the portal (Twofold reached under a protected domain):
//   GET  /v1/forward-auth/sign-in?rd=URL  — rd checked (no open redirect), then the hosted sign-in
//        (or step-up, when the rule for rd asks for more than the session proves) and back here;
//        On a domain with a portal of its own and no session there, the sign-in is handed to the
//        public origin and back (single-sign-on.ts: /v1/forward-auth/sso and /sso/callback);
//   GET  /v1/forward-auth/callback?rd=URL — sets the domain's cookie for the signed-in session, 302 to rd;
//   GET  /v1/forward-auth/logout?rd=URL   — a page with a sign-out form (CSRF token);
//   POST /v1/forward-auth/logout          — ends the Twofold session (as the sign-out does, for every
//        app and device holding it), clears the cookies, 303 to rd.
// Registered in the hosted pages' scope: their CSRF check, CSP, cookies and error page apply.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ForwardAuthDomain } from '../../config/forward-auth.js';
import { logout } from '../../flows/sessions/logout.js';
import { announceRevokedSessions, revokeSessionsInDatabase } from '../../flows/sessions/revoke-sessions.js';
import { requestMeta } from '../authenticate.js';
import { findForwardAuthSession } from '../../store/repositories/forward-auth-sessions.js';
import { findSession } from '../../store/repositories/sessions.js';
import { sha256Base64url } from '../../core/crypto/digest.js';
import { cookieNames, readCookie } from '../../ui/cookies.js';
import { csrfField } from '../../ui/csrf.js';
import { html } from '../../ui/html.js';
import { formValue, type PageKit } from '../../ui/kit.js';
import { clearSignIn, signedInSession } from '../../ui/page-session.js';
import { decide } from '../../forward-auth/decide.js';
import { normalizeRequestTarget } from '../../forward-auth/request-target.js';
import { forwardAuthCookieOf, identityOf } from './cookie-sessions.js';
import { forwardAuthPaths, stepUpPath, type ForwardAuthRuntime } from './endpoint.js';
import { domainOfHost, encodeParameter, parseReturnTarget, rdOfUrl, type ReturnTarget } from './return-target.js';
import { forwardAuthHandoff, hasOwnPortal, startHandoff } from './single-sign-on.js';

export function forwardAuthPages(app: FastifyInstance, kit: PageKit, runtime: ForwardAuthRuntime): void {
  const { ctx } = kit;
  const domains = ctx.config.forwardAuth.domains;
  forwardAuthHandoff(app, kit, runtime);
  const here = (target: ReturnTarget) => `${forwardAuthPaths.signIn}?rd=${encodeParameter(target.url.href)}`;

  /** On a portal other than the one of rd's domain, the cookie could not be set: go there first. */
  const elsewhere = (request: FastifyRequest, target: ReturnTarget): string | undefined => {
    const portal = new URL(target.domain.portalUrl);
    if (target.domain.portalUrl === new URL(ctx.config.publicUrl).origin || request.headers.host?.toLowerCase() === portal.host) return undefined;
    return `${portal.origin}${request.url}`;
  };

  app.get(forwardAuthPaths.signIn, async (request, reply) => {
    const target = parseReturnTarget(domains, rdOfUrl(request.url));
    const portal = elsewhere(request, target);
    if (portal !== undefined) return reply.redirect(portal, 303);
    const auth = await signedInSession(ctx, request, reply);
    if (auth === undefined) {
      // On a domain's own portal the person signs in once, at the public origin, and is handed back.
      if (hasOwnPortal(ctx.config.publicUrl, target.domain)) return startHandoff(ctx.config.publicUrl, reply, target);
      return reply.redirect(`/sign-in?return_to=${encodeParameter(here(target))}`, 303);
    }
    // The rule for rd may ask for more than this session proves: a step-up, not a new sign-in.
    const requested = normalizeRequestTarget({ method: 'GET', host: target.url.host, uri: `${target.url.pathname}${target.url.search}` });
    const decision = decide(runtime.rules.current(), requested, identityOf(auth.session, auth.user), Math.floor(ctx.now() / 1000));
    if (decision.kind === 'step_up') return reply.redirect(stepUpPath(target.url.href, decision.acr), 303);
    return reply.redirect(`${forwardAuthPaths.callback}?rd=${encodeParameter(target.url.href)}`, 303);
  });

  app.get(forwardAuthPaths.callback, async (request, reply) => {
    const target = parseReturnTarget(domains, rdOfUrl(request.url));
    const portal = elsewhere(request, target);
    if (portal !== undefined) return reply.redirect(portal, 303);
    const auth = await signedInSession(ctx, request, reply);
    if (auth === undefined) return reply.redirect(here(target), 303);
    // A new token for each sign-in (and step-up): the old one, if this browser had one, is dropped.
    await runtime.sessions.forget(reply, forwardAuthCookieOf(request.headers.cookie), target.domain);
    await runtime.sessions.issue(reply, auth.session.id, target.domain);
    return reply.redirect(target.url.href, 302);
  });

  app.get(forwardAuthPaths.logout, async (request, reply) => {
    const rd = rdOfUrl(request.url);
    const target = rd === undefined || rd === '' ? undefined : parseReturnTarget(domains, rd);
    return kit.render(request, reply, { title: 'Sign out', signedIn: false }, (csrf) => html`<form method="post" action="${forwardAuthPaths.logout}" class="stack">
  ${csrfField(csrf)}
  ${target === undefined ? html`` : html`<input type="hidden" name="rd" value="${target.url.href}">`}
  <p>Sign out of every application behind this sign-in?</p>
  <button type="submit">Sign out</button>
</form>`);
  });

  app.post(forwardAuthPaths.logout, async (request, reply) => {
    const rd = formValue(request, 'rd');
    const target = rd === undefined || rd === '' ? undefined : parseReturnTarget(domains, rd);
    const meta = requestMeta(request);
    const auth = await signedInSession(ctx, request, reply);
    if (auth !== undefined) await logout(ctx, auth, readCookie(request, cookieNames.refresh), meta);
    const cookie = forwardAuthCookieOf(request.headers.cookie);
    if (cookie !== undefined && /^[A-Za-z0-9_-]{43}$/.test(cookie)) await endSessionOfCookie(cookie, meta);
    clearSignIn(reply);
    const host = (request.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    const cookieDomain: ForwardAuthDomain | undefined = target?.domain ?? domainOfHost(domains, host);
    if (cookieDomain !== undefined) await runtime.sessions.forget(reply, cookie, cookieDomain);
    return reply.redirect(target?.url.href ?? '/sign-in?done=signed-out', 303);
  });

  /** The session a forward-auth cookie stands for ends too (the portal's own cookies may be gone). */
  const endSessionOfCookie = async (cookie: string, meta: ReturnType<typeof requestMeta>) => {
    const row = await findForwardAuthSession(ctx.db, sha256Base64url(cookie));
    const session = row === undefined ? undefined : await findSession(ctx.db, row.session_id);
    if (session === undefined || session.state !== 'active') return;
    const revoked = await revokeSessionsInDatabase(ctx.db, [session.id], 'logout', ctx.now());
    await announceRevokedSessions(ctx, revoked);
    for (const sessionId of revoked) ctx.events.record({ type: 'session.revoked', userId: session.user_id, sessionId, ip: meta.ip, userAgent: meta.userAgent, details: { reason: 'forward_auth_logout' } });
  };
}
