// POST /v1/register
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FlowContext } from '../../flows/shared/context.js';
import { register } from '../../flows/sign-in/register.js';
import { requestMeta } from '../authenticate.js';
import { totpEnrollmentSchema, userSchema } from '../schemas/common.js';

const registerBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 256 }),
    // Far above the 128-code-point policy so that the policy, not the schema, explains the limit.
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    phone: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

export function registerRoutes(app: FastifyInstance, ctx: FlowContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/register',
    {
      schema: {
        summary: 'Create an account; returns an mfa_token and the TOTP secret to confirm',
        body: registerBody,
        response: {
          201: Type.Object({
            user: userSchema,
            mfa_token: Type.String(),
            expires_in: Type.Integer(),
            next: Type.Literal('enroll'),
            totp: totpEnrollmentSchema,
          }),
        },
      },
    },
    async (request, reply) => reply.code(201).send(await register(ctx, request.body, requestMeta(request))),
  );
}
