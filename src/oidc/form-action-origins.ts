// The hosted pages' Content-Security-Policy limits where a form may go (form-action), and browsers
// apply that to every redirect the form's answer starts. A sign-in for an application ends in such a
// chain — the verify form's answer goes on through the provider to the application's redirect URI
// — so a page of that sign-in must allow that one origin, or a real browser stops on the sign-in
// page (a fetch-driven test never notices). Which sign-in a page belongs to is where it returns
// to: the `return_to` / `next` of the request or the return cookie, naming the provider's
// interaction; the origin is the redirect URI the provider accepted for it. One key-value read for
// a page of a provider sign-in, none for any other page — never a list of every client (that cost
// and the header's length would grow with the clients registered, dynamic registration included).
import type { FastifyRequest } from 'fastify';
import type { FlowContext } from '../flows/shared/context.js';
import { cookieNames, readCookie } from '../ui/cookies.js';
import { oidcInteractionUid } from '../ui/redirects.js';
import { findInteractionParams } from './short-lived-entries.js';

function interactionOfRequest(request: FastifyRequest): string | undefined {
  const query = (request.query ?? {}) as Record<string, unknown>;
  for (const candidate of [query['return_to'], query['next'], readCookie(request, cookieNames.returnTo)]) {
    const uid = oidcInteractionUid(candidate);
    if (uid !== undefined) return uid;
  }
  return undefined;
}

/** The redirect origin of the provider sign-in this page is part of, if any. */
export async function oidcRedirectOriginsOf(ctx: FlowContext, request: FastifyRequest): Promise<string[]> {
  const uid = interactionOfRequest(request);
  if (uid === undefined) return [];
  const redirectUri = (await findInteractionParams(ctx.kv, uid))?.['redirect_uri'];
  if (typeof redirectUri !== 'string') return [];
  try {
    return [new URL(redirectUri).origin];
  } catch {
    return [];
  }
}
