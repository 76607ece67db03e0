// POST /v1/login
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FlowContext } from '../../flows/shared/context.js';
import { login } from '../../flows/sign-in/login.js';
import { requestMeta } from '../authenticate.js';
import { factorSummarySchema } from '../schemas/common.js';

const loginBody = Type.Object(
  {
    username: Type.String({ maxLength: 256 }),
    password: Type.String({ maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export function loginRoutes(app: FastifyInstance, ctx: FlowContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/login',
    {
      schema: {
        summary: 'Check the password; returns an mfa_token that can only complete the second factor',
        body: loginBody,
        response: {
          200: Type.Object({
            mfa_token: Type.String(),
            expires_in: Type.Integer(),
            next: Type.Union([Type.Literal('verify'), Type.Literal('enroll')]),
            factors: Type.Array(factorSummarySchema),
          }),
        },
      },
    },
    async (request) => login(ctx, request.body, requestMeta(request)),
  );
}
