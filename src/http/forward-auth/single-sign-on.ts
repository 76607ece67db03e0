// One sign-in across parent domains. A domain whose portal is not Twofold's public URL (say
// example.org, portal auth.example.org, Twofold at auth.example.com) cannot read the hosted pages'
// cookies of the public host, so its portal hands the browser to the public origin and back:
//
//   1. portal  GET /v1/forward-auth/sign-in?rd=URL, no session there: a fresh random state in a
//      __Host- cookie on the portal (SameSite=Lax, 10 min), 303 to the public origin's
//      /v1/forward-auth/sso?rd=URL&state=S;
//   2. public  GET /v1/forward-auth/sso: the signed-in session (hosted pages' cookies) — after a
//      same-site hop (those cookies are SameSite=Strict, so a navigation another site started
//      carries none), the normal sign-in, or a step-up when rd's rule asks for more — then a
//      one-time code (handoff-codes.ts) for that session, rd's domain and S, and 303 to the
//      portal's /v1/forward-auth/sso/callback?code=C&state=S&rd=URL — a URL made from the
//      configuration, never from a parameter (no open redirect);
//   3. portal  GET /v1/forward-auth/sso/callback: S equals the state cookie (constant time; else it
//      is login CSRF: someone else's code), the code is taken once, was issued for this domain and
//      this state, its session is still live and meets rd's rule: the domain's cookie for the SAME
//      Twofold session, so sign-out, "sign out everywhere" and revocation end every domain's cookie.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { ForwardAuthDomain } from '../../config/forward-auth.js';
import { constantTimeEqual } from '../../core/crypto/constant-time.js';
import { sha256Base64url } from '../../core/crypto/digest.js';
import { generateRandomBase64url } from '../../core/crypto/random.js';
import { invalidTokenError, TwofoldError } from '../../errors.js';
import { decide } from '../../forward-auth/decide.js';
import { normalizeRequestTarget } from '../../forward-auth/request-target.js';
import { html } from '../../ui/html.js';
import type { PageKit } from '../../ui/kit.js';
import { signedInSession } from '../../ui/page-session.js';
import { forwardAuthCookieOf, identityOf, liveSessionIdentity } from './cookie-sessions.js';
import { forwardAuthPaths, type ForwardAuthRuntime } from './endpoint.js';
import { handoffTokenShape, issueHandoffCode, takeHandoffCode } from './handoff-codes.js';
import { encodeParameter, parseReturnTarget, type ReturnTarget } from './return-target.js';

export const handoffStateCookieName = '__Host-twofold-fa-state';
const stateCookieMaxAgeSeconds = 10 * 60;

/** True when `domain` is signed in for at a portal of its own, not at Twofold's public origin. */
export function hasOwnPortal(publicUrl: string, domain: ForwardAuthDomain): boolean {
  return domain.portalUrl !== new URL(publicUrl).origin;
}

/** Step 1, on the domain's own portal: bind a fresh state to this browser and go to the public origin. */
export function startHandoff(publicUrl: string, reply: FastifyReply, target: ReturnTarget): FastifyReply {
  const state = generateRandomBase64url(32);
  setStateCookie(reply, state, stateCookieMaxAgeSeconds);
  return reply.redirect(`${new URL(publicUrl).origin}${handoffPath(target, state)}`, 303);
}

/** The public origin's handoff route for rd and state (also where the sign-in or step-up there returns). */
function handoffPath(target: ReturnTarget, state: string, hop = false): string {
  return `${forwardAuthPaths.sso}?rd=${encodeParameter(target.url.href)}&state=${state}${hop ? '&hop=1' : ''}`;
}

export function forwardAuthHandoff(app: FastifyInstance, kit: PageKit, runtime: ForwardAuthRuntime): void {
  const { ctx } = kit;
  const domains = ctx.config.forwardAuth.domains;
  const publicUrl = ctx.config.publicUrl;

  /** Each parameter exactly once (a repeated one is two readings of one URL: refused). */
  const parameters = (request: FastifyRequest, names: readonly string[], optional: readonly string[] = []): Record<string, string | undefined> => {
    const query = new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '');
    const values: Record<string, string | undefined> = {};
    for (const name of [...names, ...optional]) {
      const all = query.getAll(name);
      if (all.length > 1 || (all.length === 0 && names.includes(name))) throw new TwofoldError('invalid_request', `The ${name} parameter must be given once.`);
      values[name] = all[0];
    }
    return values;
  };

  /** rd, on a domain that has a portal of its own (the public origin's own domain needs no handoff). */
  const handoffTarget = (rd: string | undefined): ReturnTarget => {
    const target = parseReturnTarget(domains, rd);
    if (!hasOwnPortal(publicUrl, target.domain)) throw new TwofoldError('invalid_request', `The rd parameter is refused: ${target.domain.domain} is signed in for here, without a handoff.`);
    return target;
  };

  const requireState = (state: string | undefined): string => {
    if (state === undefined || !handoffTokenShape.test(state)) throw new TwofoldError('invalid_request', 'The state parameter is malformed.');
    return state;
  };

  // Step 2, on the public origin.
  app.get(forwardAuthPaths.sso, async (request, reply) => {
    const { rd, state: rawState, hop } = parameters(request, ['rd', 'state'], ['hop']);
    const target = handoffTarget(rd);
    const state = requireState(rawState);
    const auth = await signedInSession(ctx, request, reply);
    if (auth === undefined) {
      const again = handoffPath(target, state, true);
      // The first arrival comes from the portal's site: the SameSite=Strict page cookies stay home.
      // A navigation this page starts is same-site and carries them; only without them is it a sign-in.
      if (hop === undefined) {
        reply.header('refresh', `0;url=${again}`);
        return kit.render(request, reply, { title: 'Signing you in', signedIn: false }, () => html`<p class="stack"><a href="${again}">Continue</a></p>`);
      }
      return reply.redirect(`/sign-in?return_to=${encodeParameter(again)}`, 303);
    }
    // The rule for rd may ask for more than this session proves: the step-up happens here, once.
    const decision = decide(runtime.rules.current(), requestOf(target), identityOf(auth.session, auth.user), Math.floor(ctx.now() / 1000));
    if (decision.kind === 'step_up') {
      const factor = decision.acr === 'phr' || decision.acr === 'phrh' ? 'factor=passkey&' : '';
      return reply.redirect(`/account/verify?${factor}next=${encodeParameter(handoffPath(target, state, true))}`, 303);
    }
    const code = await issueHandoffCode(ctx, { sessionId: auth.session.id, domain: target.domain.domain, state });
    return reply.redirect(`${target.domain.portalUrl}${forwardAuthPaths.ssoCallback}?code=${code}&state=${state}&rd=${encodeParameter(target.url.href)}`, 303);
  });

  // Step 3, on the domain's portal.
  app.get(forwardAuthPaths.ssoCallback, async (request, reply) => {
    const { code, state, rd } = parameters(request, ['code', 'state', 'rd']);
    const target = handoffTarget(rd);
    const portal = new URL(target.domain.portalUrl);
    if (request.headers.host?.toLowerCase() !== portal.host) throw new TwofoldError('invalid_request', `The handoff for ${target.domain.domain} ends at ${portal.origin}.`);
    const expected = stateCookieOf(request);
    setStateCookie(reply, '', 0);
    // Taken first, whatever else is wrong: a code that reached the wrong browser is spent, never kept for a retry.
    const grant = await takeHandoffCode(ctx, code!);
    if (expected === undefined || state === undefined || !constantTimeEqual(expected, state)) {
      throw new TwofoldError('invalid_request', 'This sign-in was not started in this browser (its state does not match); start again from the application.');
    }
    if (grant === undefined || grant.domain !== target.domain.domain || !constantTimeEqual(grant.stateHash, sha256Base64url(state))) {
      throw new TwofoldError('invalid_code', 'The sign-in code is wrong, expired, already used or for another domain; start again from the application.');
    }
    const identity = await liveSessionIdentity(ctx, grant.sessionId);
    if (identity === undefined) throw invalidTokenError('The session this sign-in came from has ended; sign in again.');
    const decision = decide(runtime.rules.current(), requestOf(target), identity, Math.floor(ctx.now() / 1000));
    // The public origin stepped up before issuing: a session weaker now than then is refused, not looped.
    if (decision.kind === 'step_up' || decision.kind === 'sign_in') throw new TwofoldError('insufficient_authentication', 'The sign-in no longer meets what this address needs; start again from the application.');
    await runtime.sessions.forget(reply, forwardAuthCookieOf(request.headers.cookie), target.domain);
    await runtime.sessions.issue(reply, grant.sessionId, target.domain);
    return reply.redirect(target.url.href, 302);
  });
}

function requestOf(target: ReturnTarget) {
  return normalizeRequestTarget({ method: 'GET', host: target.url.host, uri: `${target.url.pathname}${target.url.search}` });
}

function stateCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  const value = parseCookie(header)[handoffStateCookieName];
  return value !== undefined && handoffTokenShape.test(value) ? value : undefined;
}

/** SameSite=Lax: it must come back on the top-level navigation from the public origin (another site). */
function setStateCookie(reply: FastifyReply, value: string, maxAgeSeconds: number): void {
  const line = stringifySetCookie({ name: handoffStateCookieName, value, path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: maxAgeSeconds });
  const existing = reply.getHeader('set-cookie');
  const others = (existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]).map(String).filter((other) => !other.startsWith(`${handoffStateCookieName}=`));
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', [...others, line]);
}
