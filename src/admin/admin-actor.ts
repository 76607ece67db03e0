// Who may use the admin API, checked on every call (AD-01): an admin role (support reads, admin
// writes), an aal2 session, and a second factor proven in the last five minutes — an older one
// gets an RFC 9470 challenge (401 insufficient_authentication, max_age=300), so a stolen or
// forgotten admin session is worth little after five minutes.
import { isAtLeastAal2 } from '../core/tokens/authentication-methods.js';
import { TwofoldError } from '../errors.js';
import type { AccessAuthentication } from '../flows/sessions/authenticate.js';
import type { FlowContext } from '../flows/shared/context.js';
import { rolesOfUser } from '../store/repositories/user-roles.js';
import { isProtectedAdmin, mayWrite, type AdminRole } from './roles.js';

export interface AdminActor {
  auth: AccessAuthentication;
  roles: readonly AdminRole[];
}

/** How recent the admin's second factor must be, whatever the server's step-up age for users. */
export const adminStepUpMaxAgeSeconds = 300;

function stepUpChallenge(detail: string): TwofoldError {
  const maxAge = adminStepUpMaxAgeSeconds;
  return new TwofoldError('insufficient_authentication', detail, {
    headers: {
      'WWW-Authenticate': `Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age=${maxAge}, acr_values="aal2"`,
    },
    extensions: { max_age: maxAge, acr_values: 'aal2' },
  });
}

export async function requireAdmin(ctx: FlowContext, auth: AccessAuthentication, need: 'read' | 'write'): Promise<AdminActor> {
  // The role first: someone with no role learns only "forbidden", never that a step-up would help.
  const roles = await rolesOfUser(ctx.db, auth.user.id);
  if (roles.length === 0) throw new TwofoldError('forbidden', 'This account holds no admin role.');
  if (need === 'write' && !mayWrite(roles)) throw new TwofoldError('forbidden', 'The support role only reads; this needs the admin role.');
  const session = auth.session;
  const amr = JSON.parse(session.amr) as string[];
  // An e-mail code is not a second factor strong enough (OB-05); a remembered browser is aal1.
  if (!isAtLeastAal2(session.acr) || amr.includes('email')) {
    throw stepUpChallenge('Admin routes need a session signed in with a second factor (aal2); prove one now.');
  }
  if (session.auth_time === null || ctx.now() - session.auth_time > adminStepUpMaxAgeSeconds * 1000) {
    throw stepUpChallenge(`Admin routes need a second factor proven in the last ${adminStepUpMaxAgeSeconds} seconds; prove one now (POST /v1/mfa/verify with this access token).`);
  }
  return { auth, roles };
}

/** A write on an account that holds an admin role needs the superadmin role (see roles.ts). */
export function requireRightOver(actor: AdminActor, targetRoles: readonly AdminRole[]): void {
  if (isProtectedAdmin(targetRoles) && !actor.roles.includes('superadmin')) {
    throw new TwofoldError('forbidden', 'The account holds an admin role: only a superadmin may act on it.');
  }
}
