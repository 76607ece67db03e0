// Who the browser is, from its cookies: a pending sign-in (the mfa_token) or a signed-in session
// (the access token, renewed from the refresh token when it has expired — the same refresh
// rotation as the API, with the same reuse detection; concurrent page loads share one refresh,
// page-refresh.ts). Every check is the API's own flow.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TwofoldError } from '../errors.js';
import { authenticateAccessToken, authenticateMfaToken, type AccessAuthentication, type PendingAuthentication } from '../flows/sessions/authenticate.js';
import type { FlowContext } from '../flows/shared/context.js';
import type { TokenResponse } from '../flows/sessions/tokens.js';
import { requestMeta } from '../http/authenticate.js';
import { clearCookie, cookieNames, readCookie, setCookie } from './cookies.js';
import { refreshForPage } from './page-refresh.js';

const isInvalidToken = (error: unknown) => error instanceof TwofoldError && error.code === 'invalid_token';

export function setSignedIn(
  ctx: FlowContext,
  reply: FastifyReply,
  tokens: Pick<TokenResponse, 'access_token'> & { refresh_token?: string | undefined; expires_in?: number | undefined },
): void {
  // A refresh answered again within the reuse grace carries an access token already seconds old:
  // the cookie goes when the token does, not later.
  setCookie(reply, cookieNames.access, tokens.access_token, tokens.expires_in ?? ctx.config.tokens.accessTokenTtlSeconds);
  if (tokens.refresh_token !== undefined) setCookie(reply, cookieNames.refresh, tokens.refresh_token, ctx.config.sessions.absoluteTimeoutSeconds);
  clearCookie(reply, cookieNames.pending);
}

export function setPending(ctx: FlowContext, reply: FastifyReply, mfaToken: string): void {
  setCookie(reply, cookieNames.pending, mfaToken, ctx.config.tokens.mfaTokenTtlSeconds);
}

export function clearSignIn(reply: FastifyReply): void {
  for (const name of [cookieNames.access, cookieNames.refresh, cookieNames.pending]) clearCookie(reply, name);
}

/** The session signedInSession found for a request: the page frame draws its header for it. */
const sessionOfRequest = new WeakMap<FastifyRequest, AccessAuthentication>();

/** Who signedInSession found signed in on this request, if it was asked; never looks anything up itself. */
export function signedInSessionOf(request: FastifyRequest): AccessAuthentication | undefined {
  return sessionOfRequest.get(request);
}

export async function signedInSession(ctx: FlowContext, request: FastifyRequest, reply: FastifyReply): Promise<AccessAuthentication | undefined> {
  const remember = (auth: AccessAuthentication) => {
    sessionOfRequest.set(request, auth);
    return auth;
  };
  const access = readCookie(request, cookieNames.access);
  if (access !== undefined) {
    try {
      return remember(await authenticateAccessToken(ctx, access));
    } catch (error) {
      if (!isInvalidToken(error)) throw error;
    }
  }
  const refresh = readCookie(request, cookieNames.refresh);
  if (refresh === undefined) return undefined;
  try {
    const tokens = await refreshForPage(ctx, refresh, requestMeta(request));
    setSignedIn(ctx, reply, tokens);
    return remember(await authenticateAccessToken(ctx, tokens.access_token));
  } catch (error) {
    if (!isInvalidToken(error)) throw error;
    clearSignIn(reply);
    return undefined;
  }
}

export async function pendingSignIn(ctx: FlowContext, request: FastifyRequest): Promise<PendingAuthentication | undefined> {
  const mfaToken = readCookie(request, cookieNames.pending);
  if (mfaToken === undefined) return undefined;
  try {
    return await authenticateMfaToken(ctx, mfaToken);
  } catch (error) {
    if (isInvalidToken(error)) return undefined;
    throw error;
  }
}
