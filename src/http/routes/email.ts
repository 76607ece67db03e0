// POST /v1/email/verify, POST /v1/me/email/verification, PUT /v1/me/email
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FlowContext } from '../../flows/shared/context.js';
import { changeOwnEmail, resendEmailVerification, verifyEmail } from '../../flows/account/email-verification.js';
import { accessAuthOf, requestMeta } from '../authenticate.js';
import { userSchema } from '../schemas/common.js';

const verifyBody = Type.Object({ token: Type.String({ maxLength: 128, description: 'The token of the link mailed to the address (tfv_…)' }) }, { additionalProperties: false });
const changeBody = Type.Object({ email: Type.String({ maxLength: 320 }) }, { additionalProperties: false });

export function emailRoutes(app: FastifyInstance, ctx: FlowContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    '/v1/email/verify',
    { schema: { summary: 'Prove an e-mail address with the token of the link mailed to it (single use, bound to the account and the address)', body: verifyBody } },
    async (request, reply) => {
      await verifyEmail(ctx, request.body, requestMeta(request));
      return reply.code(204).send();
    },
  );

  typed.post(
    '/v1/me/email/verification',
    {
      config: { auth: 'access' },
      schema: { summary: 'Send a new verification link to the caller’s unverified address (at most one a minute)', response: { 202: Type.Object({ message: Type.String() }) } },
    },
    async (request, reply) => reply.code(202).send(await resendEmailVerification(ctx, accessAuthOf(request), requestMeta(request))),
  );

  typed.put(
    '/v1/me/email',
    {
      config: { auth: 'access' },
      schema: {
        summary: 'Change the e-mail address (needs a recent second factor); the new one is unverified until its owner follows the link mailed to it',
        body: changeBody,
        response: { 200: Type.Object({ user: userSchema }) },
      },
    },
    async (request) => ({ user: await changeOwnEmail(ctx, accessAuthOf(request), request.body, requestMeta(request)) }),
  );
}
