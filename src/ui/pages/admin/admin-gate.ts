// The door of the admin console: the browser's page session (page-session.ts) held to the admin
// API's own rule (src/admin/admin-actor.ts requireAdmin: a role, aal2 and a second factor from
// the last five minutes). Nobody signed in goes to the sign-in page and comes back here; a second
// factor too old goes through the account's step-up prompt (/account/verify) and comes back — the
// same detour every other page takes. A missing role is the admin API's 403, shown as a page.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mayWrite, requireAdmin, type AdminActor } from '../../../admin/index.js';
import { TwofoldError } from '../../../errors.js';
import type { PageKit } from '../../kit.js';
import { clearSignIn, signedInSession } from '../../page-session.js';
import { adminConsoleReturn, safeLocalPath } from '../../redirects.js';

export type AdminNeed = 'read' | 'write';

/** The step-up detour: confirm a factor, then back to `next` (a console page). */
export function stepUpRedirect(reply: FastifyReply, next: string): FastifyReply {
  return reply.redirect(`/account/verify?next=${encodeURIComponent(safeLocalPath(next, '/admin'))}`, 303);
}

/** Sign in, then back to the console page that asked (its bare path: filters are not kept). */
export function signInRedirect(reply: FastifyReply, back: string): FastifyReply {
  return reply.redirect(`/sign-in?return_to=${encodeURIComponent(adminConsoleReturn(back) ?? '/admin')}`, 303);
}

/**
 * The admin acting through this page, or undefined when the reply is already a redirect (to sign
 * in, or to confirm a factor). `back` is the console page to return to afterwards.
 */
export async function adminOfPage(kit: PageKit, request: FastifyRequest, reply: FastifyReply, need: AdminNeed, back: string): Promise<AdminActor | undefined> {
  const auth = await signedInSession(kit.ctx, request, reply);
  if (auth === undefined) {
    signInRedirect(reply, back);
    return undefined;
  }
  try {
    return await requireAdmin(kit.ctx, auth, need);
  } catch (error) {
    if (redirectForAdminError(error, reply, back)) return undefined;
    throw error;
  }
}

/** Sends the browser where an admin call's refusal points (step-up, or signing in again); false when the refusal is a page to show instead. */
export function redirectForAdminError(error: unknown, reply: FastifyReply, back: string): boolean {
  if (!(error instanceof TwofoldError)) return false;
  if (error.code === 'insufficient_authentication') {
    stepUpRedirect(reply, back);
    return true;
  }
  if (error.code === 'invalid_token') {
    clearSignIn(reply);
    signInRedirect(reply, back);
    return true;
  }
  return false;
}

/** Write actions are offered to admins only (support sees the same pages without their forms). */
export function canAct(actor: AdminActor): boolean {
  return mayWrite(actor.roles);
}
