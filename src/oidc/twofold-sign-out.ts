// The provider's logout (RP-initiated, /oidc/session/end) signs the person out of Twofold too when
// they chose to: once the provider has checked its own CSRF token (xsrf, bound to its session) and
// ended its session, the browser's Twofold session — named by the same __Host- cookies the hosted
// pages use — is revoked exactly as the pages' "Sign out" revokes it, which runs the session-end
// hooks (grants revoked, back-channel logout, the revoked-sessions feed), and the cookies are
// cleared in the same answer. "Stay signed in" ends only that app's login at the provider.
//
// It asks only when the provider has a login of this browser to end: without one the provider
// confirms on its own (there is nobody to ask on its side) and Twofold's session, which the person
// was never asked about, stays.
import type { IncomingMessage } from 'node:http';
import { parseCookie } from 'cookie';
import type { FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { TwofoldError } from '../errors.js';
import { authenticateAccessToken } from '../flows/sessions/authenticate.js';
import { logout, logoutWithRefreshToken } from '../flows/sessions/logout.js';
import type { FlowContext, RequestMeta } from '../flows/shared/context.js';
import { requestMeta } from '../http/authenticate.js';
import { clearingSetCookie, cookieNames } from '../ui/cookies.js';

type Middleware = Parameters<Provider['use']>[0];

/** The request's address and agent as Twofold reads them (trusted proxies), kept for the provider's answer. */
const metaOfRequest = new WeakMap<IncomingMessage, RequestMeta>();

export function rememberRequestMeta(request: FastifyRequest): void {
  metaOfRequest.set(request.raw, requestMeta(request));
}

async function signOutOfTwofold(ctx: FlowContext, cookieHeader: string | undefined, meta: RequestMeta): Promise<void> {
  const cookies = cookieHeader === undefined ? {} : parseCookie(cookieHeader);
  const access = cookies[cookieNames.access];
  const refresh = cookies[cookieNames.refresh];
  if (access !== undefined && access !== '') {
    try {
      await logout(ctx, await authenticateAccessToken(ctx, access), refresh, meta);
      return;
    } catch (error) {
      if (!(error instanceof TwofoldError && error.code === 'invalid_token')) throw error;
    }
  }
  if (refresh !== undefined && refresh !== '') await logoutWithRefreshToken(ctx, refresh, meta);
}

export function signOutOfTwofoldAtLogout(ctx: FlowContext): Middleware {
  return async (koa, next) => {
    await next();
    const oidc = (koa as unknown as Partial<KoaContextWithOIDC>).oidc;
    const confirmed = oidc?.route === 'end_session_confirm' && koa.status === 303 && oidc.params?.['logout'] !== undefined;
    if (!confirmed || oidc.session?.accountId === undefined) return;
    await signOutOfTwofold(ctx, koa.get('cookie') || undefined, metaOfRequest.get(koa.req) ?? {});
    for (const name of [cookieNames.access, cookieNames.refresh, cookieNames.pending]) koa.append('Set-Cookie', clearingSetCookie(name));
  };
}
