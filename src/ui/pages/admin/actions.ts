// What an admin can do to a user from the console, one entry per action: its page (what happens,
// in words, before anything does), its button, when it is offered, the admin API's function that
// does it (with the reason the admin typed) and the notice shown after. The pages and the routes
// are made from this list (pages.ts), so every action has the same confirmation, reason field,
// CSRF token and step-up.
import {
  cancelUserDeletion,
  deleteUser,
  endUserSessions,
  forcePasswordReset,
  lockUser,
  resetSecondFactors,
  unlockUser,
  type AdminActor,
  type AdminUserDetails,
} from '../../../admin/index.js';
import type { FlowContext } from '../../../flows/shared/context.js';
import { html, type SafeHtml } from '../../html.js';

export interface ConsoleAction {
  /** The last segment of its path (/admin/users/:id/<slug>) and the key of its notice. */
  slug: string;
  /** The link on the user's page and the title of its page. */
  title: string;
  /** The button that does it, on its page. */
  button: string;
  danger: boolean;
  /** What will happen, said before it does. */
  explain(user: AdminUserDetails, ctx: FlowContext): SafeHtml;
  /** Shown after it was done. */
  done: string;
  /** Whether the user's state makes it meaningful (a locked user is unlocked, not locked again). */
  offered(user: AdminUserDetails): boolean;
  run(ctx: FlowContext, actor: AdminActor, userId: string, reason: string): Promise<AdminUserDetails>;
}

export const consoleActions: readonly ConsoleAction[] = [
  {
    slug: 'reset-second-factors',
    title: 'Reset second factors',
    button: 'Reset second factors',
    danger: true,
    explain: (user) => html`<p>This removes <strong>every second factor</strong> of ${user.username} (${user.factors.length} now) and their ${user.recovery_codes_remaining} recovery code${user.recovery_codes_remaining === 1 ? '' : 's'}, ends <strong>every session</strong>, refresh token and sign-in in progress, forgets their remembered browsers, and tells them on every channel they have (confirmed e-mail addresses, phones).</p>
<p>Their password stays: the next sign-in still asks for it, then asks them to set up a new second factor before anything else. Nobody — you neither — sees a secret.</p>`,
    done: 'The second factors were reset and every session ended. The user sets up a new factor at their next sign-in.',
    offered: () => true,
    run: resetSecondFactors,
  },
  {
    slug: 'end-sessions',
    title: 'End all sessions',
    button: 'End all sessions',
    danger: true,
    explain: (user) => html`<p>This signs ${user.username} out everywhere: all ${user.sessions.length} session${user.sessions.length === 1 ? '' : 's'} and their refresh tokens end now. Their factors and password stay.</p>`,
    done: 'Every session of the user was ended.',
    offered: () => true,
    run: endUserSessions,
  },
  {
    slug: 'lock',
    title: 'Lock the account',
    button: 'Lock the account',
    danger: true,
    explain: (user) => html`<p>While locked, ${user.username} cannot sign in; their sessions and any sign-in in progress end now. Unlock the account here to let them back in.</p>`,
    done: 'The account is locked.',
    offered: (user) => !user.locked,
    run: lockUser,
  },
  {
    slug: 'unlock',
    title: 'Unlock the account',
    button: 'Unlock the account',
    danger: false,
    explain: (user) => html`<p>${user.username} can sign in again (with their password and second factor).</p>`,
    done: 'The account is unlocked.',
    offered: (user) => user.locked,
    run: unlockUser,
  },
  {
    slug: 'force-password-reset',
    title: 'Require a new password',
    button: 'Require a new password',
    danger: true,
    explain: (user) => html`<p>${user.username}'s password stops working at once, every session ends and remembered browsers are forgotten. A reset code goes to their confirmed e-mail address or phone, as with “Forgot password”; their second factor is still asked for when they sign in again.</p>`,
    done: 'The user must set a new password before signing in again.',
    offered: () => true,
    run: forcePasswordReset,
  },
  {
    slug: 'delete',
    title: 'Delete the account',
    button: 'Delete the account',
    danger: true,
    explain: (user, ctx) => html`<p>${user.username} is signed out everywhere and cannot sign in; in ${ctx.config.admin.deleteGraceDays} days the account and everything it holds are deleted for good. Until then the deletion can be cancelled here.</p>`,
    done: 'The account will be deleted after the grace period.',
    offered: (user) => user.delete_after === null,
    run: deleteUser,
  },
  {
    slug: 'cancel-deletion',
    title: 'Cancel the deletion',
    button: 'Cancel the deletion',
    danger: false,
    explain: (user) => html`<p>${user.username}'s account is kept: the deletion planned for it is cancelled.</p>`,
    done: 'The deletion was cancelled.',
    offered: (user) => user.delete_after !== null,
    run: cancelUserDeletion,
  },
];

export function consoleActionNamed(slug: unknown): ConsoleAction | undefined {
  return consoleActions.find((action) => action.slug === slug);
}
