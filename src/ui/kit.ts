// What every page handler needs: the flow context, rendering with the frame (CSRF token, signed-in
// state, notices) and a few small conveniences, so the page files hold only their own content.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FlowContext } from '../flows/shared/context.js';
import { passkeyOfferQuietDays } from '../flows/passkey-offer/passkey-offer.js';
import { rolesOfUser } from '../store/repositories/user-roles.js';
import { csrfTokenFor } from './csrf.js';
import type { SafeHtml } from './html.js';
import { renderPage, type PageFrame } from './layout.js';
import { signedInSessionOf } from './page-session.js';

export interface PageKit {
  ctx: FlowContext;
  render(
    request: FastifyRequest,
    reply: FastifyReply,
    frame: { title: string; signedIn: boolean; pending?: boolean; wide?: boolean; notice?: PageFrame['notice']; status?: number },
    body: (csrf: string) => SafeHtml,
  ): Promise<FastifyReply>;
}

export function createPageKit(ctx: FlowContext): PageKit {
  return {
    ctx,
    async render(request, reply, frame, body) {
      const csrf = csrfTokenFor(request, reply);
      const adminLink = frame.signedIn && (await holdsAdminRole(ctx, request));
      const page = renderPage({ ...frame, adminLink, csrf, serviceName: ctx.config.serviceName }, body(csrf));
      return reply.code(frame.status ?? 200).type('text/html; charset=utf-8').send(page);
    },
  };
}

/**
 * Whether the person this page is drawn for holds an admin role (support, admin or superadmin):
 * their header links the console. Only asked on pages drawn for someone signed in, so the other
 * pages (and forward-auth's checks, which share the page session) pay no query for it. The link
 * is a convenience, not the door: /admin checks the role, aal2 and a fresh second factor itself.
 */
async function holdsAdminRole(ctx: FlowContext, request: FastifyRequest): Promise<boolean> {
  const auth = signedInSessionOf(request);
  return auth !== undefined && (await rolesOfUser(ctx.db, auth.user.id)).length > 0;
}

/** Form bodies are flat string maps; anything else is treated as absent. */
export function formValue(request: FastifyRequest, name: string): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const value = body?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** Fixed notices selected by a query parameter (never free text from the URL). */
const notices: Record<string, string> = {
  'signed-out': 'You are signed out.',
  'sign-in-expired': 'That sign-in expired or was used up. Sign in again.',
  'sign-in-cancelled': 'That sign-in was cancelled.',
  // Setting up a factor needs a live sign-in; when it ended, the account did not.
  'setup-expired': 'Setting up your second factor stopped: the sign-in it needs expired or ran out of tries. Your account is kept — sign in with your password to set it up.',
  'factor-added': 'The factor is ready to use.',
  'factor-removed': 'The factor was removed.',
  'factor-renamed': 'The factor was renamed.',
  'session-ended': 'The session was ended.',
  'password-changed': 'Your password was changed. Your other sessions were signed out.',
  'password-removed': 'Your password was removed: you sign in with a passkey alone now. Your other sessions were signed out.',
  'password-set': 'Your password was set. Your other sessions were signed out.',
  verified: 'Verified. You can go ahead now.',
  'password-reset': 'Your password was reset. Sign in with it — you will still need your second factor.',
  'device-forgotten': 'That browser will ask for a second factor again.',
  'verification-sent': 'A new verification link is on its way to your e-mail address.',
  'email-changed': 'Your e-mail address was changed. Follow the link we sent to it to confirm it.',
  'passkey-offer-dismissed': `We will not offer you a passkey again for ${passkeyOfferQuietDays} days. You can add one here at any time.`,
  'passkey-upgraded': 'Your new passkey signs you in on its own. The old one was removed.',
};

export function noticeFrom(request: FastifyRequest): PageFrame['notice'] {
  const key = (request.query as Record<string, unknown> | undefined)?.['done'];
  const text = typeof key === 'string' ? notices[key] : undefined;
  return text === undefined ? undefined : { kind: key === 'sign-in-expired' || key === 'setup-expired' ? 'error' : 'ok', text };
}
