// POST /v1/factors, POST /v1/factors/{id}/verify, GET /v1/factors, PATCH and DELETE /v1/factors/{id}
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { Type } from 'typebox';
import { confirmFactor } from '../../flows/factors/confirm-factor.js';
import type { FlowContext } from '../../flows/shared/context.js';
import { enrollFactor } from '../../flows/factors/enroll-factor.js';
import { listFactors, removeOwnFactor, renameOwnFactor } from '../../flows/factors/manage-factors.js';
import { accessAuthOf, eitherAuthOf, requestMeta } from '../authenticate.js';
import { codeSchema, credentialSchema, enrollmentSchema, factorSchema, idSchema, labelSchema, tokenResponseProperties } from '../schemas/common.js';

const enrollBody = Type.Object(
  {
    type: Type.Union([Type.Literal('totp'), Type.Literal('sms'), Type.Literal('email'), Type.Literal('webauthn')]),
    label: Type.Optional(labelSchema),
    phone: Type.Optional(Type.String({ maxLength: 32, description: 'E.164, for type "sms"' })),
    email: Type.Optional(Type.String({ maxLength: 320, description: 'for type "email"' })),
  },
  { additionalProperties: false },
);

const factorParams = Type.Object({ id: idSchema });
const confirmBody = Type.Object(
  {
    code: Type.Optional(codeSchema),
    challenge_id: Type.Optional(idSchema),
    credential: Type.Optional(credentialSchema),
  },
  { additionalProperties: false },
);
const renameBody = Type.Object({ label: Type.Union([labelSchema, Type.Null()]) }, { additionalProperties: false });

export function factorRoutes(app: FastifyInstance, ctx: FlowContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    '/v1/factors',
    {
      config: { auth: 'mfa-or-access' },
      schema: {
        summary: 'Start enrolling a factor (mfa_token while none is active, else a recent access token)',
        body: enrollBody,
        response: { 201: enrollmentSchema },
      },
    },
    async (request, reply) => reply.code(201).send(await enrollFactor(ctx, eitherAuthOf(request), request.body, requestMeta(request))),
  );

  typed.post(
    '/v1/factors/:id/verify',
    {
      config: { auth: 'mfa-or-access', issuesTokens: true },
      schema: {
        summary: 'Confirm a pending factor with its first code or passkey response, in the session that started it (its mfa_token, or its access token with a recent second factor); with an mfa_token this completes the sign-in',
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
      const { credential, ...rest } = request.body;
      return confirmFactor(ctx, eitherAuthOf(request), request.params.id, { ...rest, credential: credential as RegistrationResponseJSON | undefined }, requestMeta(request));
    },
  );

  typed.get(
    '/v1/factors',
    { config: { auth: 'access' }, schema: { summary: "The caller's factors (never their secrets)", response: { 200: Type.Object({ factors: Type.Array(factorSchema) }) } } },
    async (request) => ({ factors: await listFactors(ctx, accessAuthOf(request)) }),
  );

  typed.patch(
    '/v1/factors/:id',
    { config: { auth: 'access' }, schema: { summary: 'Rename a factor', params: factorParams, body: renameBody, response: { 200: Type.Object({ factor: factorSchema }) } } },
    async (request) => ({ factor: await renameOwnFactor(ctx, accessAuthOf(request), request.params.id, request.body.label, requestMeta(request)) }),
  );

  typed.delete(
    '/v1/factors/:id',
    { config: { auth: 'access' }, schema: { summary: 'Remove a factor (a recent second factor is needed; never the last one)', params: factorParams } },
    async (request, reply) => {
      await removeOwnFactor(ctx, accessAuthOf(request), request.params.id, requestMeta(request));
      return reply.code(204).send();
    },
  );
}
