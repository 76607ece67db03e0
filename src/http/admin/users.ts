// /v1/admin/users…: the admin API. Every route takes an access token; before the body
// is even validated, requireAdmin checks the role (support reads, admin writes), aal2 and a second
// factor within five minutes (401 insufficient_authentication with max_age, RFC 9470) — so a
// caller without the right learns nothing about what a valid request would look like.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import { Type, type Static } from 'typebox';
import { TwofoldError } from '../../errors.js';
import type { FlowContext } from '../../flows/shared/context.js';
import {
  cancelUserDeletion,
  deleteUser,
  endUserSessions,
  exportUsers,
  forcePasswordReset,
  grantRole,
  lockUser,
  requireAdmin,
  resetSecondFactors,
  revokeRole,
  searchUsers,
  showUser,
  unlockUser,
  type AdminActor,
  type AdminExportFilters,
  type AdminUserDetails,
} from '../../admin/index.js';
import { accessAuthOf } from '../authenticate.js';
import { adminUserDetailsSchema, adminUserSummarySchema, exportBody, reasonBody, roleBody, searchQuerystring, userIdParams } from './schemas.js';

const actors = new WeakMap<FastifyRequest, AdminActor>();

function checkAdmin(ctx: FlowContext, need: 'read' | 'write') {
  return async (request: FastifyRequest): Promise<void> => {
    actors.set(request, await requireAdmin(ctx, accessAuthOf(request), need));
  };
}

function actorOf(request: FastifyRequest): AdminActor {
  const actor = actors.get(request);
  if (actor === undefined) throw new TypeError(`route ${request.routeOptions.url} did not check the admin`);
  return actor;
}

type SearchFilterParameters = Omit<Static<typeof searchQuerystring>, 'limit' | 'after'>;

/** The search's filters as the API spells them (strings), as searchUsers and exportUsers take them. */
function filtersOf(parameters: SearchFilterParameters): AdminExportFilters {
  return {
    q: parameters.q,
    email: parameters.email,
    phoneSuffix: parameters.phone_suffix,
    createdAfter: timeOf('created_after', parameters.created_after),
    createdBefore: timeOf('created_before', parameters.created_before),
    lastSignInAfter: timeOf('last_sign_in_after', parameters.last_sign_in_after),
    lastSignInBefore: timeOf('last_sign_in_before', parameters.last_sign_in_before),
    locked: parameters.locked === undefined ? undefined : parameters.locked === 'true',
    hasFactor: parameters.has_factor as AdminExportFilters['hasFactor'],
  };
}

function timeOf(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^[0-9]+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms) || ms < 0) throw new TwofoldError('invalid_request', `\`${name}\` is not a date-time (ISO 8601) or milliseconds since 1970.`);
  return ms;
}

type ReasonAction = (ctx: FlowContext, actor: AdminActor, userId: string, reason: string) => Promise<AdminUserDetails>;

const reasonActions: { path: string; summary: string; action: ReasonAction }[] = [
  { path: 'lock', summary: 'Lock the account: every sign-in refused, its sessions end', action: lockUser },
  { path: 'unlock', summary: 'Unlock the account (the failure count starts over)', action: unlockUser },
  { path: 'end-sessions', summary: 'End every session of the account, its refresh tokens and its logins in flight', action: endUserSessions },
  {
    path: 'force-password-reset',
    summary: 'Force a password reset: the password stops working, sessions end, a reset code goes to the owner',
    action: forcePasswordReset,
  },
  {
    path: 'reset-second-factors',
    summary: 'Reset second factors (lost phone): factors and recovery codes removed, every session ends, the owner is told on every channel; the next sign-in needs the password, then enrolls',
    action: resetSecondFactors,
  },
  { path: 'cancel-deletion', summary: 'Cancel a deletion waiting for its grace period; the account signs in again', action: cancelUserDeletion },
];

export function adminRoutes(app: FastifyInstance, ctx: FlowContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['admin'];

  typed.get(
    '/v1/admin/users',
    {
      config: { auth: 'access' },
      preValidation: checkAdmin(ctx, 'read'),
      schema: {
        tags,
        summary: 'Search users (admin or support; a second factor within 5 minutes): username or e-mail prefix, phone suffix, creation and last sign-in ranges, locked, has a factor',
        description: 'Filters combine (AND). A page holds `limit` users; pass `next` as `after` for the next one (with the same filters). A creation (or else last sign-in) range orders by that time; a `q` prefix lists the usernames with it (in username order), then the other people whose e-mail address has it (in e-mail order); an `email` prefix orders by e-mail address; anything else by id.',
        querystring: searchQuerystring,
        response: { 200: Type.Object({ users: Type.Array(adminUserSummarySchema), next: Type.Unsafe<string | null>({ type: ['string', 'null'] }) }) },
      },
    },
    async (request) => searchUsers(ctx, actorOf(request), { ...filtersOf(request.query), limit: request.query.limit === undefined ? undefined : Number(request.query.limit), after: request.query.after }),
  );

  typed.post(
    '/v1/admin/users/export',
    {
      config: { auth: 'access' },
      preValidation: checkAdmin(ctx, 'read'),
      schema: {
        tags,
        summary: 'Export every user the filters match as CSV (admin or support; a reason is required and audited)',
        description:
          'The search\'s filters, as strings in a JSON body, and a reason; the answer is text/csv streamed row by row. Cells a spreadsheet would evaluate (starting with = + - @, tab, CR or LF) start with an apostrophe.',
        body: exportBody,
        response: { 200: { description: 'text/csv: a header line, then one line per user', content: { 'text/csv': { schema: {} } } } },
      },
    },
    async (request, reply) => {
      const { reason, ...filters } = request.body;
      const lines = exportUsers(ctx, actorOf(request), filtersOf(filters), reason);
      const day = new Date(ctx.now()).toISOString().slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="twofold-users-${day}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(lines));
    },
  );

  typed.get(
    '/v1/admin/users/:id',
    {
      config: { auth: 'access' },
      preValidation: checkAdmin(ctx, 'read'),
      schema: { tags, summary: "A user: factors (never a secret), live sessions, remembered browsers, recent security events", params: userIdParams, response: { 200: adminUserDetailsSchema } },
    },
    async (request) => showUser(ctx, actorOf(request), request.params.id),
  );

  for (const { path, summary, action } of reasonActions) {
    typed.post(
      `/v1/admin/users/:id/${path}`,
      {
        config: { auth: 'access' },
        preValidation: checkAdmin(ctx, 'write'),
        schema: { tags, summary: `${summary} (admin; a reason is required)`, params: userIdParams, body: reasonBody, response: { 200: adminUserDetailsSchema } },
      },
      async (request) => action(ctx, actorOf(request), request.params.id, request.body.reason),
    );
  }

  typed.delete(
    '/v1/admin/users/:id',
    {
      config: { auth: 'access' },
      preValidation: checkAdmin(ctx, 'write'),
      schema: {
        tags,
        summary: 'Delete the account after the grace period (TWOFOLD_ADMIN_DELETE_GRACE_DAYS): disabled now, sessions end, deleted by the upkeep after; cancel with cancel-deletion',
        params: userIdParams,
        body: reasonBody,
        response: { 200: adminUserDetailsSchema },
      },
    },
    async (request) => deleteUser(ctx, actorOf(request), request.params.id, request.body.reason),
  );

  typed.post(
    '/v1/admin/users/:id/roles',
    {
      config: { auth: 'access' },
      preValidation: checkAdmin(ctx, 'write'),
      schema: { tags, summary: 'Grant a role (support by an admin; admin by a superadmin)', params: userIdParams, body: roleBody, response: { 200: adminUserDetailsSchema } },
    },
    async (request) => grantRole(ctx, actorOf(request), request.params.id, request.body.role, request.body.reason),
  );

  typed.delete(
    '/v1/admin/users/:id/roles/:role',
    {
      config: { auth: 'access' },
      preValidation: checkAdmin(ctx, 'write'),
      schema: {
        tags,
        summary: 'Revoke a role (support by an admin; admin by a superadmin)',
        params: Type.Object({ id: userIdParams.properties.id, role: Type.String({ maxLength: 32 }) }),
        body: reasonBody,
        response: { 200: adminUserDetailsSchema },
      },
    },
    async (request) => revokeRole(ctx, actorOf(request), request.params.id, request.params.role, request.body.reason),
  );
}
