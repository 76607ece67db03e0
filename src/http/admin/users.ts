// /v1/admin/users…: the admin API. Every route takes an access token; before the body
// is even validated, requireAdmin checks the role (support reads, admin writes), aal2 and a second
// factor within five minutes (401 insufficient_authentication with max_age, RFC 9470) — so a
// caller without the right learns nothing about what a valid request would look like.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { TwofoldError } from '../../errors.js';
import type { FlowContext } from '../../flows/shared/context.js';
import {
  cancelUserDeletion,
  deleteUser,
  endUserSessions,
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
  type AdminUserDetails,
} from '../../admin/index.js';
import { accessAuthOf } from '../authenticate.js';
import { adminUserDetailsSchema, adminUserSummarySchema, reasonBody, roleBody, searchQuerystring, userIdParams } from './schemas.js';

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
        description: 'Filters combine (AND). A page holds `limit` users; pass `next` as `after` for the next one (with the same filters). A creation (or else last sign-in) range orders by that time, anything else by id.',
        querystring: searchQuerystring,
        response: { 200: Type.Object({ users: Type.Array(adminUserSummarySchema), next: Type.Unsafe<string | null>({ type: ['string', 'null'] }) }) },
      },
    },
    async (request) => {
      const query = request.query;
      return searchUsers(ctx, actorOf(request), {
        q: query.q,
        email: query.email,
        phoneSuffix: query.phone_suffix,
        createdAfter: timeOf('created_after', query.created_after),
        createdBefore: timeOf('created_before', query.created_before),
        lastSignInAfter: timeOf('last_sign_in_after', query.last_sign_in_after),
        lastSignInBefore: timeOf('last_sign_in_before', query.last_sign_in_before),
        locked: query.locked === undefined ? undefined : query.locked === 'true',
        hasFactor: query.has_factor as 'totp' | 'sms' | 'email' | 'webauthn' | 'any' | 'none' | undefined,
        limit: query.limit === undefined ? undefined : Number(query.limit),
        after: query.after,
      });
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
