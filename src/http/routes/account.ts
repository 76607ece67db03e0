// GET /v1/sessions, DELETE /v1/sessions/{id}, POST /v1/password, GET /v1/events
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { changePassword } from '../../flows/change-password.js';
import type { FlowContext } from '../../flows/context.js';
import { listOwnSecurityEvents } from '../../flows/recent-events.js';
import { listOwnSessions, revokeOwnSession } from '../../flows/sessions.js';
import { accessAuthOf, requestMeta } from '../authenticate.js';
import { idSchema, isoTimeSchema, nullableString, sessionSchema } from '../schemas/common.js';

const passwordBody = Type.Object(
  { current_password: Type.String({ maxLength: 1024 }), new_password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export function accountRoutes(app: FastifyInstance, ctx: FlowContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/v1/sessions',
    {
      config: { auth: 'access' },
      schema: {
        summary: "The caller's signed-in sessions",
        response: { 200: Type.Object({ sessions: Type.Array(Type.Object({ ...sessionSchema.properties, current: Type.Boolean() })) }) },
      },
    },
    async (request) => ({ sessions: await listOwnSessions(ctx, accessAuthOf(request)) }),
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
      schema: { summary: 'Change the password (the current one and a recent second factor are needed; other sessions end)', body: passwordBody },
    },
    async (request, reply) => {
      await changePassword(ctx, accessAuthOf(request), { currentPassword: request.body.current_password, newPassword: request.body.new_password }, requestMeta(request));
      return reply.code(204).send();
    },
  );

  typed.get(
    '/v1/events',
    {
      config: { auth: 'access' },
      schema: {
        summary: "The caller's recent security events",
        // Query strings are text and this server does not coerce types: the number is parsed here.
        querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })) }),
        response: {
          200: Type.Object({
            events: Type.Array(Type.Object({ type: Type.String(), created_at: isoTimeSchema, ip: nullableString, user_agent: nullableString, details: Type.Object({}, { additionalProperties: true }) })),
          }),
        },
      },
    },
    async (request) => ({ events: await listOwnSecurityEvents(ctx, accessAuthOf(request), Number(request.query.limit ?? 20)) }),
  );
}
