// Fastify adapter: `app.register(twofoldAuth, { verifier })` adds `request.auth` (the claims,
// or null) and `app.requireAuth(requirements?)`, a preHandler for routes that need a token:
//
//   app.get('/payments', { preHandler: app.requireAuth({ acr: 'aal2', maxAge: 300, dpop: 'required' }) }, handler)
//
// DPoP proofs are checked against the request's method and URL: by default Fastify's own
// request.protocol and request.host (which honor X-Forwarded-* only under the app's trustProxy);
// behind a proxy give `publicUrl` (or `requestUrl`). Registered without encapsulation (like
// fastify-plugin), so the decorators reach sibling routes.
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { TwofoldAccessClaims } from './claims.js';
import { authenticateRequest, type AuthenticateOptions, type DpopPolicy } from './authenticate-request.js';
import { requestUrlResolver, type RequestUrlOptions } from './request-url.js';
import type { Verifier } from './verifier.js';

export interface TwofoldAuthPluginOptions extends RequestUrlOptions<FastifyRequest> {
  verifier: Verifier;
  realm?: string;
  /** The DPoP policy of routes that do not name one; default 'allowed'. */
  dpop?: DpopPolicy;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Claims of the verified access token; null on routes without requireAuth. */
    auth: TwofoldAccessClaims | null;
  }
  interface FastifyInstance {
    requireAuth(requirements?: AuthenticateOptions): preHandlerAsyncHookHandler;
  }
}

async function twofoldAuthPlugin(app: FastifyInstance, options: TwofoldAuthPluginOptions): Promise<void> {
  const urlOf = requestUrlResolver(options, (request) => `${request.protocol}://${request.host}${request.url}`, (request) => request.url);
  app.decorateRequest('auth', null);
  app.decorate('requireAuth', (requirements: AuthenticateOptions = {}) => {
    const settings: AuthenticateOptions = {
      ...(options.realm === undefined ? {} : { realm: options.realm }),
      ...(options.dpop === undefined ? {} : { dpop: options.dpop }),
      ...requirements,
    };
    return async function requireTwofoldAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const credentials = {
        method: request.method,
        // Only DPoP requests need the URL (the proof's htu): built on demand.
        get url() {
          return urlOf(request);
        },
        authorization: request.headers.authorization,
        dpop: request.headers['dpop'],
      };
      const result = await authenticateRequest(options.verifier, credentials, settings);
      if (result.ok) {
        request.auth = result.claims;
        reply.headers(result.headers);
        return;
      }
      await reply.code(result.failure.status).headers(result.failure.headers).send(JSON.stringify(result.failure.body));
    };
  });
}

// What fastify-plugin does: skip encapsulation and give the plugin a name for diagnostics.
Object.assign(twofoldAuthPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'twofold-auth' });

export const twofoldAuth = twofoldAuthPlugin;
