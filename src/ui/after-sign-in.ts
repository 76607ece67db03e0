// Where a completed sign-in goes — with a password and a second factor, or with a passkey alone:
// the return_to the sign-in page was opened with (an allow-listed origin, or the OpenID Provider's
// interaction that sent the person here), else the account page.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FlowContext } from '../flows/shared/context.js';
import { clearCookie, cookieNames, readCookie } from './cookies.js';
import { signInReturnTarget } from './redirects.js';

export function signInReturn(ctx: FlowContext, value: unknown): string | undefined {
  return signInReturnTarget(value, { allowedRedirectOrigins: ctx.config.pages.allowedRedirectOrigins, oidcEnabled: ctx.config.oidc.enabled, forwardAuthEnabled: ctx.config.forwardAuth.enabled });
}

export function redirectAfterSignIn(ctx: FlowContext, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const returnTo = signInReturn(ctx, readCookie(request, cookieNames.returnTo));
  clearCookie(reply, cookieNames.returnTo);
  return reply.redirect(returnTo ?? '/account', 303);
}
