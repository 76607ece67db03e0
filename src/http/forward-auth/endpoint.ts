// GET /v1/forward-auth (Caddy forward_auth, Traefik ForwardAuth, HAProxy: a 302 is passed on to
// the browser) and GET /v1/forward-auth/nginx (nginx auth_request: only 2xx, 401 and 403 mean
// something; nginx turns the 401 into its own redirect to /v1/forward-auth/sign-in). Both read
// the original request from a trusted proxy's headers, find the person (a forward-auth cookie, or
// an access token for API clients), ask decide() and answer:
//   allow → 200 with Remote-User / Remote-Acr / Remote-Amr and the signed X-Twofold-Assertion;
//   sign_in / step_up → 302 to the portal's sign-in or step-up page (nginx: 401);
//   deny → 403 forward_auth_denied; a bad request → 400; an untrusted peer → 403 untrusted_proxy.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ForwardAuthDomain } from '../../config/forward-auth.js';
import { TwofoldError } from '../../errors.js';
import type { FlowContext } from '../../flows/shared/context.js';
import { requestMeta } from '../authenticate.js';
import { decide, matchRule, type ForwardAuthDecision, type ForwardAuthIdentity } from '../../forward-auth/decide.js';
import type { RulesSource } from '../../forward-auth/rules-source.js';
import { createAssertionCache } from './assertion.js';
import { forwardAuthCookieOf, type CookieSessions } from './cookie-sessions.js';
import { createTrustedPeer, readOriginalRequest, type OriginalRequest } from './original-request.js';
import { domainOfHost, encodeParameter } from './return-target.js';
import { tokenIdentity } from './token-identity.js';

export const forwardAuthPaths = {
  check: '/v1/forward-auth',
  nginx: '/v1/forward-auth/nginx',
  signIn: '/v1/forward-auth/sign-in',
  callback: '/v1/forward-auth/callback',
  logout: '/v1/forward-auth/logout',
  /** The public origin's half of the sign-in handoff to a domain with a portal of its own (single-sign-on.ts). */
  sso: '/v1/forward-auth/sso',
  /** The portal's half: a one-time code from the public origin becomes the domain's cookie. */
  ssoCallback: '/v1/forward-auth/sso/callback',
} as const;

export interface ForwardAuthRuntime {
  ctx: FlowContext;
  rules: RulesSource;
  sessions: CookieSessions;
}

/** Where the person goes to sign in (or step up) for the original URL: the sign-in route of its domain's portal. */
export function signInUrl(domain: ForwardAuthDomain, originalUrl: string): string {
  return `${domain.portalUrl}${forwardAuthPaths.signIn}?rd=${encodeParameter(originalUrl)}`;
}

/** The hosted step-up page, coming back through the forward-auth sign-in (which sets a fresh cookie). */
export function stepUpPath(originalUrl: string, acr: string): string {
  const back = `${forwardAuthPaths.signIn}?rd=${encodeParameter(originalUrl)}`;
  return `/account/verify?${acr === 'phr' || acr === 'phrh' ? 'factor=passkey&' : ''}next=${encodeParameter(back)}`;
}

export function forwardAuthEndpoint(app: FastifyInstance, runtime: ForwardAuthRuntime): void {
  const { ctx } = runtime;
  const trustedPeer = createTrustedPeer(ctx.config.http.trustedProxies);
  const headers = ctx.config.forwardAuth.headers;
  const assertions = createAssertionCache(ctx);

  const answer = async (request: FastifyRequest, reply: FastifyReply, flavour: 'redirect' | 'nginx') => {
    const original = readOriginalRequest(request, trustedPeer, flavour === 'nginx' ? 'original' : 'forwarded');
    const { target } = original;
    if (target === undefined) throw new TwofoldError('invalid_request', 'The original request is refused: its method, host or URI is malformed or unsafe.');
    const ruleSet = runtime.rules.current();
    const domain = domainOfHost(ctx.config.forwardAuth.domains, target.host);
    const policy = matchRule(ruleSet, target).policy;
    // bypass and deny need nobody: no cookie or token is read for them.
    const identity = policy === 'bypass' || policy === 'deny' ? undefined : await identityOf(request, original, domain);
    const decision = decide(ruleSet, target, identity, Math.floor(ctx.now() / 1000));
    return respond(request, reply, flavour, original, domain, identity, decision);
  };

  const identityOf = async (request: FastifyRequest, original: OriginalRequest, domain: ForwardAuthDomain | undefined): Promise<ForwardAuthIdentity | undefined> => {
    const fromToken = await tokenIdentity(ctx, request, original);
    if (fromToken !== undefined) return fromToken;
    const cookie = forwardAuthCookieOf(request.headers.cookie);
    if (cookie === undefined || domain === undefined) return undefined;
    const found = await runtime.sessions.lookup(cookie, domain.domain);
    return found.ok ? found.identity : undefined;
  };

  const respond = async (
    request: FastifyRequest,
    reply: FastifyReply,
    flavour: 'redirect' | 'nginx',
    original: OriginalRequest,
    domain: ForwardAuthDomain | undefined,
    identity: ForwardAuthIdentity | undefined,
    decision: ForwardAuthDecision,
  ) => {
    if (decision.kind === 'allow') {
      if (identity !== undefined) {
        reply.header(headers.user, identity.username);
        reply.header(headers.acr, identity.acr);
        reply.header(headers.amr, identity.amr.join(','));
        reply.header(headers.assertion, await assertions.sign(identity, `${original.scheme}://${original.target!.host}`));
      }
      return reply.code(200).send();
    }
    if (decision.kind === 'deny') {
      if (identity !== undefined) {
        const meta = requestMeta(request);
        ctx.events.record({ type: 'forward_auth.denied', coalesce: true, userId: identity.userId, sessionId: identity.sessionId, ip: meta.ip, userAgent: meta.userAgent, details: { host: original.target!.host, rule: decision.rule?.line ?? 0, reason: decision.reason } });
      }
      throw new TwofoldError('forward_auth_denied', decision.reason === 'user_not_allowed' ? 'This account may not reach this address.' : 'The rules deny this request.', { extensions: { reason: decision.reason } });
    }
    // sign_in or step_up: an API client (a token) is told so; a browser is sent to sign in.
    if (request.headers.authorization !== undefined) {
      throw new TwofoldError('insufficient_authentication', 'This address needs a stronger or more recent sign-in than this token carries.', {
        headers: { 'WWW-Authenticate': `Bearer error="insufficient_user_authentication", acr_values="${decision.acr}"${decision.kind === 'step_up' && decision.maxAge !== undefined ? `, max_age=${decision.maxAge}` : ''}` },
        extensions: { acr_values: decision.acr },
      });
    }
    if (domain === undefined) throw new TwofoldError('forward_auth_denied', 'This host is not inside a domain forward-auth signs people in for (TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN).', { extensions: { reason: 'host_outside_domains' } });
    // A domain with a portal of its own steps up through that portal's sign-in too: the person's
    // session is on the public origin, reached by the handoff (single-sign-on.ts), which steps up there.
    const ownPortal = domain.portalUrl !== new URL(ctx.config.publicUrl).origin;
    const location = decision.kind === 'step_up' && !ownPortal ? `${domain.portalUrl}${stepUpPath(original.url, decision.acr)}` : signInUrl(domain, original.url);
    if (flavour === 'nginx') {
      // nginx passes only the status on; its configuration reads Location (auth_request_set) for
      // its own 302: the URL built here, encoded, on the domain's portal (nginx cannot encode rd).
      throw new TwofoldError('invalid_token', 'Sign in first.', { headers: { 'WWW-Authenticate': 'Bearer', Location: location }, extensions: { sign_in: location } });
    }
    return reply.code(302).header('location', location).send();
  };

  app.get(forwardAuthPaths.check, { schema: { hide: true } }, (request, reply) => answer(request, reply, 'redirect'));
  app.get(forwardAuthPaths.nginx, { schema: { hide: true } }, (request, reply) => answer(request, reply, 'nginx'));
}
