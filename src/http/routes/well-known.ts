// Discovery for resource servers: the JWKS (public keys only) and an OpenID-style metadata
// subset that points to it. Cacheable briefly: a rotated key appears within a minute.
import type { FastifyInstance } from 'fastify';
import { buildJwks } from '../../core/tokens/jwks.js';
import { Type } from 'typebox';
import type { FlowContext } from '../../flows/context.js';
import { listRevokedSessions } from '../../flows/revoked-sessions-feed.js';

export function wellKnownRoutes(app: FastifyInstance, ctx: FlowContext): void {
  app.get('/.well-known/jwks.json', { schema: { summary: 'Public signing keys (JWK Set)' } }, async (_request, reply) => {
    reply.header('Cache-Control', 'public, max-age=60');
    return buildJwks(await ctx.keys.publishedKeys());
  });

  app.get('/.well-known/openid-configuration', { schema: { summary: 'Discovery metadata' } }, async (_request, reply) => {
    const issuer = ctx.config.issuer;
    reply.header('Cache-Control', 'public, max-age=300');
    return {
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      twofold_revoked_sessions_endpoint: `${issuer}/v1/revoked-sessions`,
      token_endpoint: `${issuer}/v1/token/refresh`,
      grant_types_supported: ['refresh_token'],
      response_types_supported: [],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [ctx.config.tokens.signingAlgorithm],
      token_endpoint_auth_methods_supported: ['none'],
      acr_values_supported: ['aal1', 'aal2'],
      amr_values_supported: ['pwd', 'otp', 'sms', 'email', 'hwk', 'swk', 'rc', 'dev', 'mfa'],
      claims_supported: ['iss', 'sub', 'aud', 'client_id', 'iat', 'exp', 'jti', 'sid', 'auth_time', 'acr', 'amr'],
      access_token_signing_alg_values_supported: [ctx.config.tokens.signingAlgorithm],
    };
  });

  app.get(
    '/v1/revoked-sessions',
    {
      schema: {
        summary: 'Sessions revoked while their access tokens may still be alive (polled by twofold/verify)',
        // A string: query values are never coerced, and a time in milliseconds fits 16 digits.
        querystring: Type.Object({ since: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$' })) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            as_of: Type.Integer({ description: 'Server time of this answer in ms; pass it as `since` next time' }),
            sessions: Type.Array(Type.Object({ sid: Type.String(), until: Type.Integer({ description: 'Refuse tokens of this session until this time (ms)' }) })),
          }),
        },
      },
    },
    async (request) => {
      const { since } = request.query as { since?: string };
      return listRevokedSessions(ctx, since === undefined ? undefined : Number(since));
    },
  );
}
