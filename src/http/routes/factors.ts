// POST /v1/factors, POST /v1/factors/{id}/verify, GET /v1/factors
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { confirmFactor } from '../../flows/confirm-factor.js';
import type { FlowContext } from '../../flows/context.js';
import { enrollFactor } from '../../flows/enroll-factor.js';
import { toFactorView } from '../../flows/views.js';
import { listFactorsOfUser } from '../../store/repositories/factors.js';
import { requestMeta, requireAccessToken, requireMfaOrAccessToken } from '../authenticate.js';
import { codeSchema, factorSchema, idSchema, labelSchema, tokenResponseProperties, totpEnrollmentSchema } from '../schemas/common.js';

const enrollBody = Type.Object(
  {
    type: Type.Literal('totp', { description: 'More factor types arrive with their issue; unknown types are refused' }),
    label: Type.Optional(labelSchema),
  },
  { additionalProperties: false },
);

const factorParams = Type.Object({ id: idSchema });
const confirmBody = Type.Object({ code: codeSchema }, { additionalProperties: false });

export function factorRoutes(app: FastifyInstance, ctx: FlowContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    '/v1/factors',
    {
      schema: {
        summary: 'Start enrolling a factor (mfa_token while none is active, else a recent access token)',
        body: enrollBody,
        response: { 201: totpEnrollmentSchema },
      },
    },
    async (request, reply) => {
      const auth = await requireMfaOrAccessToken(ctx, request);
      return reply.code(201).send(await enrollFactor(ctx, auth, request.body, requestMeta(request)));
    },
  );

  typed.post(
    '/v1/factors/:id/verify',
    {
      schema: {
        summary: 'Confirm a pending factor with its first code; with an mfa_token this completes the sign-in',
        params: factorParams,
        body: confirmBody,
        response: {
          200: Type.Object({
            factor: factorSchema,
            ...Type.Partial(Type.Object(tokenResponseProperties)).properties,
            recovery_codes: Type.Optional(Type.Array(Type.String())),
          }),
        },
      },
    },
    async (request) => {
      const auth = await requireMfaOrAccessToken(ctx, request);
      return confirmFactor(ctx, auth, request.params.id, request.body.code, requestMeta(request));
    },
  );

  typed.get(
    '/v1/factors',
    { schema: { summary: "The caller's factors (never their secrets)", response: { 200: Type.Object({ factors: Type.Array(factorSchema) }) } } },
    async (request) => {
      const auth = await requireAccessToken(ctx, request);
      return { factors: (await listFactorsOfUser(ctx.db, auth.user.id)).map(toFactorView) };
    },
  );
}
