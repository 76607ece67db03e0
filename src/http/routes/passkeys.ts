// POST /v1/passkeys/authenticate/options, POST /v1/passkeys/authenticate: sign in with a passkey
// alone (no username, no password), as two factors when the authenticator verified the person.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { Type } from 'typebox';
import { completePasskeySignIn, startPasskeySignIn } from '../../flows/passkey-sign-in/index.js';
import type { FlowContext } from '../../flows/shared/context.js';
import { requestMeta } from '../authenticate.js';
import { credentialSchema, idSchema, problemSchema, tokenResponseSchema, webauthnObjectSchema } from '../schemas/common.js';

const optionsBody = Type.Object({}, { additionalProperties: false });

const authenticateBody = Type.Object(
  {
    challenge_id: idSchema,
    credential: credentialSchema,
    acr_values: Type.Optional(
      Type.String({
        maxLength: 256,
        description: 'Space-separated acr values asked for: "phr" (phishing-resistant), "phrh" (and a proven hardware key). Given only when true; otherwise the token says aal2 (or aal1).',
      }),
    ),
  },
  { additionalProperties: false },
);

const problem = (description: string) => ({ ...problemSchema, description });

export function passkeyRoutes(app: FastifyInstance, ctx: FlowContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    '/v1/passkeys/authenticate/options',
    {
      schema: {
        summary: 'Start a passkey sign-in: WebAuthn request options (no username; empty allowCredentials, user verification required) and the challenge_id to answer within 5 minutes',
        body: optionsBody,
        response: {
          200: Type.Object({ challenge_id: Type.String(), expires_in: Type.Integer(), options: webauthnObjectSchema }),
          403: problem('`forbidden`: passkeys are not enabled on this server'),
        },
      },
    },
    async (request) => startPasskeySignIn(ctx, requestMeta(request)),
  );

  typed.post(
    '/v1/passkeys/authenticate',
    {
      config: { issuesTokens: true },
      schema: {
        summary: 'Sign in with a passkey alone: the assertion for a challenge from /v1/passkeys/authenticate/options; returns the token response of a completed login',
        body: authenticateBody,
        response: {
          200: tokenResponseSchema,
          400: problem('`invalid_request` (malformed body), `invalid_challenge` (unknown or already answered: a challenge works once), `challenge_expired` (older than 5 minutes)'),
          401: problem(
            '`invalid_passkey`: unknown credential, another RP ID or origin, a bad signature, tampered clientDataJSON or authenticatorData, a changed backup eligibility (BE), a user handle that is not the owner\'s, or a passkey that cannot sign in alone — all alike; `user_verification_required`: the assertion lacks UV (unless TWOFOLD_PASSKEY_WITHOUT_UV=aal1)',
          ),
          403: problem('`passkey_locked`: the signature counter went backwards (a cloned authenticator): the passkey is locked until its owner removes it; `forbidden`: passkeys are not enabled'),
          429: problem('`too_many_attempts`: the account or this network has no guesses left, or the account is locked'),
        },
      },
    },
    async (request) => {
      const { credential, ...rest } = request.body;
      return completePasskeySignIn(ctx, { ...rest, credential: credential as unknown as AuthenticationResponseJSON }, requestMeta(request));
    },
  );
}
