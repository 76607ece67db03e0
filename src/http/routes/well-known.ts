// Discovery for resource servers: the JWKS (public keys only) and an OpenID-style metadata
// subset that points to it. Cacheable briefly: a rotated key appears within a minute.
import type { FastifyInstance } from 'fastify';
import { assuranceLevels } from '../../core/tokens/assurance-levels.js';
import { buildJwks } from '../../core/tokens/jwks.js';
import { Type } from 'typebox';
import type { FlowContext } from '../../flows/shared/context.js';
import { listRevokedSessions } from '../../flows/sessions/revoked-sessions-feed.js';

/** What Twofold's own discovery document says: its JWKS, its refresh endpoint and its token claims. */
export function twofoldDiscoveryMetadata(ctx: FlowContext): Record<string, unknown> {
  const issuer = ctx.config.issuer;
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
    acr_values_supported: [...assuranceLevels],
    amr_values_supported: ['pwd', 'otp', 'sms', 'email', 'hwk', 'swk', 'rc', 'dev', 'mfa'],
    claims_supported: ['iss', 'sub', 'aud', 'client_id', 'iat', 'exp', 'jti', 'sid', 'auth_time', 'acr', 'amr'],
    access_token_signing_alg_values_supported: [ctx.config.tokens.signingAlgorithm],
    // RFC 9449 §5.1: the proof algorithms token requests may use; absent when DPoP is off.
    ...(ctx.config.dpop.mode === 'off' ? {} : { dpop_signing_alg_values_supported: [...ctx.config.dpop.algorithms] }),
  };
}

export function wellKnownRoutes(app: FastifyInstance, ctx: FlowContext): void {
  app.get('/.well-known/jwks.json', { schema: { summary: 'Public signing keys (JWK Set)' } }, async (_request, reply) => {
    reply.header('Cache-Control', 'public, max-age=60');
    return buildJwks(await ctx.keys.publishedKeys());
  });

  // With the OpenID Provider on, src/oidc/ serves this document: the provider's, with this one merged in.
  if (!ctx.config.oidc.enabled) {
    app.get('/.well-known/openid-configuration', { schema: { summary: 'Discovery metadata' } }, async (_request, reply) => {
      reply.header('Cache-Control', 'public, max-age=300');
      return twofoldDiscoveryMetadata(ctx);
    });
  }

  app.get(
    '/v1/revoked-sessions',
    {
      schema: {
        summary: 'Sessions revoked while their access tokens may still be alive (polled by twofold/verify)',
        description:
          'Pages follow the strict order (revocation time, session id). A complete answer has `next_after: null`: pass `as_of` as `since` next time. ' +
          'A full page has `next_after` set: ask again at once with `since=<as_of>&after=<next_after>` to continue strictly after its last row.',
        // Strings: query values are never coerced; a time in milliseconds fits 16 digits, a session id is base64url.
        querystring: Type.Object(
          {
            since: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$' })),
            after: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'The `next_after` of the previous page (needs `since`)' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            as_of: Type.Integer({ description: 'Complete answer: server time in ms, pass it as `since` next time. Full page: the time of its last row' }),
            sessions: Type.Array(Type.Object({ sid: Type.String(), until: Type.Integer({ description: 'Refuse tokens of this session until this time (ms)' }) })),
            next_after: Type.Union([Type.String(), Type.Null()], { description: 'Null when complete; else the id of the last row, to pass as `after` with `since=as_of`' }),
          }),
        },
      },
    },
    async (request) => {
      const { since, after } = request.query as { since?: string; after?: string };
      return listRevokedSessions(ctx, since === undefined ? undefined : Number(since), after);
    },
  );
}
