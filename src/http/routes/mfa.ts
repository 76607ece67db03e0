// POST /v1/mfa/verify
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FlowContext } from '../../flows/context.js';
import { verifySecondFactor } from '../../flows/verify-second-factor.js';
import { requestMeta, requireMfaToken } from '../authenticate.js';
import { codeSchema, idSchema, tokenResponseSchema } from '../schemas/common.js';

// Unknown members (e.g. a client-asserted "mfa_verified" or "username") are stripped, never read (FL-04/FL-06).
const verifyBody = Type.Object(
  {
    factor_id: Type.Optional(idSchema),
    code: Type.Optional(codeSchema),
    recovery_code: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export function mfaRoutes(app: FastifyInstance, ctx: FlowContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/mfa/verify',
    {
      schema: {
        summary: 'Prove the second factor with a TOTP code or a recovery code; returns the tokens',
        body: verifyBody,
        response: { 200: tokenResponseSchema },
      },
    },
    async (request) => verifySecondFactor(ctx, await requireMfaToken(ctx, request), request.body, requestMeta(request)),
  );
}
