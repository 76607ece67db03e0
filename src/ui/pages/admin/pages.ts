// The admin console's routes in the hosted pages' scope (same CSP, CSRF check and error page as
// every page): GET /admin searches, GET /admin/users/:id shows a user, and each action of
// actions.ts has a page (GET, what will happen and a reason field) and a form POST to the same
// path. Everything goes through the admin API's functions (src/admin/) with the page session as
// the admin: the rules (roles, step-up, reasons, audit) are theirs, the pages only show.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { maxReasonLength, minReasonLength, searchUsers, showUser, type AdminUserDetails } from '../../../admin/index.js';
import { TwofoldError } from '../../../errors.js';
import { csrfField } from '../../csrf.js';
import { field } from '../../forms.js';
import { html } from '../../html.js';
import { formValue, type PageKit } from '../../kit.js';
import { consoleActions, type ConsoleAction } from './actions.js';
import { adminOfPage, canAct, redirectForAdminError } from './admin-gate.js';
import { adminQueryOf, readSearchForm, renderSearch } from './search.js';
import { renderUser } from './user.js';

const userPath = (userId: string) => `/admin/users/${encodeURIComponent(userId)}`;

/** A user id as the path carries it; anything else is no user. */
function userIdOf(request: FastifyRequest): string {
  const id = (request.params as Record<string, unknown>)['id'];
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new TwofoldError('not_found', 'There is no such user.');
  return id;
}

/** The notice after an action (a fixed text chosen by its slug, never text from the URL). */
function doneNotice(request: FastifyRequest): { kind: 'ok'; text: string } | undefined {
  const slug = (request.query as Record<string, unknown> | undefined)?.['done'];
  const action = consoleActions.find((candidate) => candidate.slug === slug);
  return action === undefined ? undefined : { kind: 'ok', text: action.done };
}

export function adminPages(app: FastifyInstance, kit: PageKit): void {
  const { ctx } = kit;

  app.get('/admin', async (request, reply) => {
    // After a step-up the search comes back with its filters (a sign-in returns to the bare /admin).
    const actor = await adminOfPage(kit, request, reply, 'read', request.url);
    if (actor === undefined) return reply;
    const form = readSearchForm(request.query);
    const result = await searchUsers(ctx, actor, adminQueryOf(form));
    return kit.render(request, reply, { title: 'Find a user', signedIn: true, wide: true }, () => renderSearch(form, result));
  });

  app.get('/admin/users/:id', async (request, reply) => {
    const userId = userIdOf(request);
    const actor = await adminOfPage(kit, request, reply, 'read', userPath(userId));
    if (actor === undefined) return reply;
    const user = await showUser(ctx, actor, userId);
    return kit.render(request, reply, { title: user.username, signedIn: true, wide: true, notice: doneNotice(request) }, () => renderUser(user, canAct(actor) ? consoleActions : []));
  });

  const renderAction = (request: FastifyRequest, reply: FastifyReply, action: ConsoleAction, user: AdminUserDetails, extra: { reason?: string; error?: string } = {}, status = 200) =>
    kit.render(request, reply, { title: action.title, signedIn: true, status }, (csrf) => html`
<p class="muted">User: <a href="${userPath(user.id)}">${user.username}</a></p>
<div class="card explanation" data-explanation>${action.explain(user, ctx)}</div>
<form class="stack" method="post" action="${userPath(user.id)}/${action.slug}" novalidate>
  ${csrfField(csrf)}
  ${field({ label: 'Reason', name: 'reason', hint: `Why you are doing this (${minReasonLength} to ${maxReasonLength} characters): it is kept in the user’s security events with your name.`, value: extra.reason, error: extra.error, maxlength: maxReasonLength, autofocus: true })}
  <div class="row"><button type="submit" class="${action.danger ? 'danger' : ''}">${action.button}</button><a class="button secondary" href="${userPath(user.id)}">Cancel</a></div>
</form>`);

  for (const action of consoleActions) {
    const path = `/admin/users/:id/${action.slug}`;

    // The confirmation: what will happen, and the reason to type. Only for those who may act.
    app.get(path, async (request, reply) => {
      const userId = userIdOf(request);
      const actor = await adminOfPage(kit, request, reply, 'write', userPath(userId));
      if (actor === undefined) return reply;
      return renderAction(request, reply, action, await showUser(ctx, actor, userId));
    });

    app.post(path, async (request, reply) => {
      const userId = userIdOf(request);
      const back = userPath(userId);
      const actor = await adminOfPage(kit, request, reply, 'write', back);
      if (actor === undefined) return reply;
      const reason = formValue(request, 'reason') ?? '';
      try {
        await action.run(ctx, actor, userId, reason);
        return reply.redirect(`${back}?done=${action.slug}`, 303);
      } catch (error) {
        if (redirectForAdminError(error, reply, back)) return reply;
        // A reason the API refuses is said next to the field, with the text kept; anything else is the error page.
        if (error instanceof TwofoldError && error.code === 'invalid_request') {
          return renderAction(request, reply, action, await showUser(ctx, actor, userId), { reason, error: error.message }, error.status);
        }
        throw error;
      }
    });
  }
}
