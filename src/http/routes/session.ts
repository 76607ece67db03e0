// POST /v1/token/refresh, POST /v1/logout, GET /v1/me
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FlowContext } from '../../flows/shared/context.js';
import { logout } from '../../flows/sessions/logout.js';
import { describeMe } from '../../flows/account/me.js';
import { refreshTokens } from '../../flows/sessions/refresh.js';
import { accessAuthOf, requestMeta } from '../authenticate.js';
import { factorSchema, sessionSchema, tokenResponseSchema, userSchema } from '../schemas/common.js';

const refreshBody = Type.Object({ refresh_token: Type.String({ maxLength: 4096 }) }, { additionalProperties: false });
const logoutBody = Type.Object({ refresh_token: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false });

export function sessionRoutes(app: FastifyInstance, ctx: FlowContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    '/v1/token/refresh',
    {
      config: { issuesTokens: true },
      schema: {
        summary: 'Rotate the refresh token; returns a new pair',
        description:
          'Each refresh token works once. Presented again within the reuse grace (TWOFOLD_REFRESH_REUSE_GRACE_SECONDS, 10 s by default) after its rotation, ' +
          'while the token it was rotated into has not been used, it gets that rotation\'s answer again: the same refresh and access token, with `expires_in` what the access token has left. ' +
          'Any other reuse (after the grace, of an older token, after the new one was used) revokes the session: 401 invalid_token.',
        body: refreshBody,
        response: { 200: tokenResponseSchema },
      },
    },
    async (request) => refreshTokens(ctx, request.body.refresh_token, requestMeta(request)),
  );

  typed.post(
    '/v1/logout',
    {
      config: { auth: 'access' },
      schema: { summary: "End the access token's session (and its refresh tokens)", body: logoutBody },
      // The body is optional: a bodiless POST validates as {}.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      await logout(ctx, accessAuthOf(request), request.body.refresh_token, requestMeta(request));
      return reply.code(204).send();
    },
  );

  typed.get(
    '/v1/me',
    {
      config: { auth: 'access' },
      schema: {
        summary: 'The user, their factors and this session',
        response: {
          200: Type.Object({
            user: userSchema,
            factors: Type.Array(factorSchema),
            recovery_codes_remaining: Type.Integer(),
            has_password: Type.Boolean({ description: 'false once the account went passwordless (DELETE /v1/password): it signs in with a passkey alone' }),
            session: sessionSchema,
          }),
        },
      },
    },
    async (request) => describeMe(ctx, accessAuthOf(request)),
  );
}
