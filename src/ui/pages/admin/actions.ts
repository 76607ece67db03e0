// What an admin can do to a user from the console, one entry per action: its page (what happens,
// in words, before anything does), its button, when it is offered, the admin API's function that
// does it (with the reason the admin typed) and the notice shown after. The pages and the routes
// are made from this list (pages.ts), so every action has the same confirmation, reason field,
// CSRF token and step-up.
import type { AdminActor } from '../../../admin/admin-actor.js';
import type { AdminUserDetails } from '../../../admin/user-details.js';
import type { FlowContext } from '../../../flows/shared/context.js';
import type { SafeHtml } from '../../html.js';

export interface ConsoleAction {
  /** The last segment of its path (/admin/users/:id/<slug>) and the key of its notice. */
  slug: string;
  /** The link on the user's page and the title of its page. */
  title: string;
  /** The button that does it, on its page. */
  button: string;
  danger: boolean;
  /** What will happen, said before it does. */
  explain(user: AdminUserDetails): SafeHtml;
  /** Shown after it was done. */
  done: string;
  /** Whether the user's state makes it meaningful (a locked user is unlocked, not locked again). */
  offered(user: AdminUserDetails): boolean;
  run(ctx: FlowContext, actor: AdminActor, userId: string, reason: string): Promise<AdminUserDetails>;
}

/** Filled in as the admin API's actions land (src/admin/actions/). */
export const consoleActions: readonly ConsoleAction[] = [];

export function consoleActionNamed(slug: unknown): ConsoleAction | undefined {
  return consoleActions.find((action) => action.slug === slug);
}
