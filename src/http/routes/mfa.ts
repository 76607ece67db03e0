// POST /v1/mfa/challenge, POST /v1/mfa/verify, POST /v1/recovery-codes
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { Type } from 'typebox';
import type { FlowContext } from '../../flows/shared/context.js';
import { regenerateRecoveryCodes } from '../../flows/factors/manage-factors.js';
import { startChallenge } from '../../flows/sign-in/mfa-challenge.js';
import { verifySecondFactor } from '../../flows/sign-in/verify-second-factor.js';
import { accessAuthOf, eitherAuthOf, requestMeta } from '../authenticate.js';
import { challengeResponseSchema, codeSchema, credentialSchema, idSchema, recoveryCodeSchema, tokenResponseProperties } from '../schemas/common.js';

const challengeBody = Type.Object({ factor_id: idSchema }, { additionalProperties: false });

// Unknown members (e.g. a client-asserted "mfa_verified" or "username") are stripped, never read (FL-04/FL-06).
const verifyBody = Type.Object(
  {
    factor_id: Type.Optional(idSchema),
    challenge_id: Type.Optional(idSchema),
    code: Type.Optional(codeSchema),
    recovery_code: Type.Optional(recoveryCodeSchema),
    credential: Type.Optional(credentialSchema),
    device_token: Type.Optional(Type.String({ maxLength: 128 })),
    remember_device: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export function mfaRoutes(app: FastifyInstance, ctx: FlowContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    '/v1/mfa/challenge',
    {
      config: { auth: 'mfa-or-access' },
      schema: {
        summary: 'Send a code (SMS, e-mail) or get passkey request options for a factor; with an access token, for a step-up',
        body: challengeBody,
        response: { 200: challengeResponseSchema },
      },
    },
    async (request) => startChallenge(ctx, eitherAuthOf(request), request.body.factor_id, requestMeta(request)),
  );

  typed.post(
    '/v1/mfa/verify',
    {
      config: { auth: 'mfa-or-access', issuesTokens: true },
      schema: {
        summary: 'Prove the second factor; with an mfa_token returns the tokens, with an access token (step-up) a new access token',
        body: verifyBody,
        response: {
          200: Type.Object({ ...tokenResponseProperties, refresh_token: Type.Optional(Type.String()), device_token: Type.Optional(Type.String()), device_expires_in: Type.Optional(Type.Integer()) }),
        },
      },
    },
    async (request) => {
      const { credential, ...rest } = request.body;
      return verifySecondFactor(ctx, eitherAuthOf(request), { ...rest, credential: credential as AuthenticationResponseJSON | undefined }, requestMeta(request));
    },
  );

  typed.post(
    '/v1/recovery-codes',
    {
      config: { auth: 'access' },
      schema: { summary: 'Issue new recovery codes (the old ones stop working); needs a recent second factor', response: { 200: Type.Object({ recovery_codes: Type.Array(Type.String()) }) } },
    },
    async (request) => ({ recovery_codes: await regenerateRecoveryCodes(ctx, accessAuthOf(request), requestMeta(request)) }),
  );
}
