// Discovery for resource servers: the JWKS (public keys only) and an OpenID-style metadata
// subset that points to it. Cacheable briefly: a rotated key appears within a minute.
import type { FastifyInstance } from 'fastify';
import { buildJwks } from '../../core/tokens/jwks.js';
import type { FlowContext } from '../../flows/context.js';

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
      token_endpoint: `${issuer}/v1/token/refresh`,
      grant_types_supported: ['refresh_token'],
      response_types_supported: [],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [ctx.config.tokens.signingAlgorithm],
      token_endpoint_auth_methods_supported: ['none'],
      acr_values_supported: ['aal1', 'aal2'],
      amr_values_supported: ['pwd', 'otp', 'rc', 'mfa'],
      claims_supported: ['iss', 'sub', 'aud', 'client_id', 'iat', 'exp', 'jti', 'sid', 'auth_time', 'acr', 'amr'],
      access_token_signing_alg_values_supported: [ctx.config.tokens.signingAlgorithm],
    };
  });
}
