// Fastify adapter: `app.register(twofoldAuth, { verifier })` adds `request.auth` (the claims,
// or null) and `app.requireAuth(requirements?)`, a preHandler for routes that need a token:
//
//   app.get('/payments', { preHandler: app.requireAuth({ acr: 'aal2', maxAge: 300 }) }, handler)
//
// Registered without encapsulation (like fastify-plugin), so the decorators reach sibling routes.
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { TwofoldAccessClaims } from './claims.js';
import { authenticateRequest, type AuthenticateOptions } from './authenticate-request.js';
import type { Verifier } from './verifier.js';

export interface TwofoldAuthPluginOptions {
  verifier: Verifier;
  realm?: string;
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
  app.decorateRequest('auth', null);
  app.decorate('requireAuth', (requirements: AuthenticateOptions = {}) => {
    const settings = { ...(options.realm === undefined ? {} : { realm: options.realm }), ...requirements };
    return async function requireTwofoldAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const result = await authenticateRequest(options.verifier, request.headers.authorization, settings);
      if (result.ok) {
        request.auth = result.claims;
        return;
      }
      await reply.code(result.failure.status).headers(result.failure.headers).send(JSON.stringify(result.failure.body));
    };
  });
}

// What fastify-plugin does: skip encapsulation and give the plugin a name for diagnostics.
Object.assign(twofoldAuthPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'twofold-auth' });

export const twofoldAuth = twofoldAuthPlugin;
