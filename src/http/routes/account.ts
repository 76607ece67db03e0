// Sessions, password (change, remove, forgot, reset), remembered browsers and the account's security events.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { changePassword } from '../../flows/account/change-password.js';
import { removeOwnPassword } from '../../flows/account/remove-password.js';
import type { FlowContext } from '../../flows/shared/context.js';
import { requestPasswordReset, resetPassword } from '../../flows/account/password-reset.js';
import { listOwnSecurityEvents } from '../../flows/account/recent-events.js';
import { defaultSessionsPageSize, listOwnSessions, revokeOtherSessions, revokeOwnSession, sessionsPageCursorOf } from '../../flows/sessions/sessions.js';
import { defaultTrustedDevicesPageSize, forgetOwnTrustedDevice, listOwnTrustedDevices, trustedDevicesPageCursorOf } from '../../flows/factors/trusted-devices.js';
import { accessAuthOf, requestMeta } from '../authenticate.js';
import { idSchema, isoTimeSchema, nullableIsoTime, nullableString, recoveryCodeSchema, securityEventSchema, sessionSchema } from '../schemas/common.js';

const passwordBody = Type.Object(
  {
    current_password: Type.Optional(Type.String({ maxLength: 1024, description: 'Required while the account has a password; left out by a passwordless account setting one' })),
    new_password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
/** 1–100 entries a page. */
const pageLimitSchema = Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' }));
const forgotBody = Type.Object({ username: Type.String({ maxLength: 256 }) }, { additionalProperties: false });
const resetBody = Type.Object(
  { username: Type.String({ maxLength: 256 }), code: recoveryCodeSchema, new_password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export function accountRoutes(app: FastifyInstance, ctx: FlowContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/v1/sessions',
    {
      config: { auth: 'access' },
      schema: {
        summary: "The caller's signed-in sessions, newest sign-in first, a page at a time (pass `next_before` as `before` for the next page)",
        querystring: Type.Object({ limit: pageLimitSchema, before: Type.Optional(Type.String({ maxLength: 96, pattern: '^[0-9]{1,15}\\.ses_[A-Za-z0-9_-]{1,64}$' })) }),
        response: { 200: Type.Object({ sessions: Type.Array(Type.Object({ ...sessionSchema.properties, current: Type.Boolean() })), next_before: nullableString }) },
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? defaultSessionsPageSize : Number(request.query.limit);
      const sessions = await listOwnSessions(ctx, accessAuthOf(request), { limit, before: request.query.before });
      const last = sessions.at(-1);
      return { sessions, next_before: sessions.length === limit && last !== undefined ? sessionsPageCursorOf(last) : null };
    },
  );

  typed.delete(
    '/v1/sessions',
    {
      config: { auth: 'access' },
      schema: { summary: 'End every other session (needs a recent second factor)', response: { 200: Type.Object({ sessions_ended: Type.Integer() }) } },
    },
    async (request) => ({ sessions_ended: await revokeOtherSessions(ctx, accessAuthOf(request), requestMeta(request)) }),
  );

  typed.delete(
    '/v1/sessions/:id',
    { config: { auth: 'access' }, schema: { summary: 'End a session (another one than this needs a recent second factor)', params: Type.Object({ id: idSchema }) } },
    async (request, reply) => {
      await revokeOwnSession(ctx, accessAuthOf(request), request.params.id, requestMeta(request));
      return reply.code(204).send();
    },
  );

  typed.post(
    '/v1/password',
    {
      config: { auth: 'access' },
      schema: { summary: 'Change the password (the current one and a recent second factor are needed; other sessions end); a passwordless account sets one with the second factor alone', body: passwordBody },
    },
    async (request, reply) => {
      await changePassword(ctx, accessAuthOf(request), { currentPassword: request.body.current_password, newPassword: request.body.new_password }, requestMeta(request));
      return reply.code(204).send();
    },
  );

  typed.delete(
    '/v1/password',
    {
      config: { auth: 'access' },
      schema: {
        summary:
          'Go passwordless: remove the password (a recent second factor is needed, and two passkeys or one and unused recovery codes, else 409 passwordless_not_allowed; other sessions end)',
      },
    },
    async (request, reply) => {
      await removeOwnPassword(ctx, accessAuthOf(request), requestMeta(request));
      return reply.code(204).send();
    },
  );

  typed.post(
    '/v1/password/forgot',
    { schema: { summary: 'Ask for a password reset code (always the same answer)', body: forgotBody, response: { 202: Type.Object({ message: Type.String() }) } } },
    async (request, reply) => reply.code(202).send(await requestPasswordReset(ctx, request.body, requestMeta(request))),
  );

  typed.post(
    '/v1/password/reset',
    { schema: { summary: 'Set a new password with a reset code; signs nobody in, factors stay', body: resetBody } },
    async (request, reply) => {
      await resetPassword(ctx, { username: request.body.username, code: request.body.code, newPassword: request.body.new_password }, requestMeta(request));
      return reply.code(204).send();
    },
  );

  typed.get(
    '/v1/trusted-devices',
    {
      config: { auth: 'access' },
      schema: {
        summary: 'Browsers remembered at a sign-in (they stand in for the second factor, as aal1), newest first, a page at a time (pass `next_before` as `before`)',
        querystring: Type.Object({ limit: pageLimitSchema, before: Type.Optional(Type.String({ maxLength: 96, pattern: '^[0-9]{1,15}\\.dev_[A-Za-z0-9_-]{1,64}$' })) }),
        response: {
          200: Type.Object({
            devices: Type.Array(Type.Object({ id: Type.String(), label: nullableString, created_at: isoTimeSchema, expires_at: isoTimeSchema, last_used_at: nullableIsoTime })),
            next_before: nullableString,
          }),
        },
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? defaultTrustedDevicesPageSize : Number(request.query.limit);
      const devices = await listOwnTrustedDevices(ctx, accessAuthOf(request), { limit, before: request.query.before });
      const last = devices.at(-1);
      return { devices, next_before: devices.length === limit && last !== undefined ? trustedDevicesPageCursorOf(last) : null };
    },
  );

  typed.delete(
    '/v1/trusted-devices/:id',
    { config: { auth: 'access' }, schema: { summary: 'Forget a remembered browser', params: Type.Object({ id: idSchema }) } },
    async (request, reply) => {
      await forgetOwnTrustedDevice(ctx, accessAuthOf(request), request.params.id, requestMeta(request));
      return reply.code(204).send();
    },
  );

  typed.get(
    '/v1/me/events',
    {
      config: { auth: 'access' },
      schema: {
        summary: "The caller's security events, newest first (pass the last id as `before` for the next page)",
        // Query strings are text and this server does not coerce types: the number is parsed here.
        querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })), before: Type.Optional(Type.String({ maxLength: 64, pattern: '^evt_[A-Za-z0-9_-]+$' })) }),
        response: {
          200: Type.Object({
            events: Type.Array(securityEventSchema),
            next_before: nullableString,
          }),
        },
      },
    },
    async (request) => {
      const limit = Number(request.query.limit ?? 20);
      const events = await listOwnSecurityEvents(ctx, accessAuthOf(request), { limit, before: request.query.before });
      return { events, next_before: events.length === limit ? (events.at(-1)?.id ?? null) : null };
    },
  );
}
