// Twofold's CORS policy on Twofold's routes, and only there: off unless TWOFOLD_CORS_ORIGINS lists
// origins (browsers on other sites cannot read API answers), never with credentials. A host app
// may run @fastify/cors for its own routes — often reflecting any origin, with credentials —
// and its hooks run on Twofold's routes too. So:
// - every Twofold route carries `config.cors`: `false` (the host's @fastify/cors skips the route)
//   or Twofold's options (merged over the host's, so its plugin answers with Twofold's policy);
// - Twofold registers @fastify/cors itself only when the host has not (a second registration
//   would clash on its request decorator and stop the app from starting);
// - under a prefix Twofold answers the preflights for its paths itself, instead of the host's
//   catch-all OPTIONS route;
// - with CORS off, whatever `access-control-*` header another hook of the host added is removed
//   from Twofold's answers.
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    cors?: false | FastifyCorsOptions;
  }
}

function twofoldCorsOptions(origins: readonly string[]): FastifyCorsOptions {
  return {
    origin: [...origins],
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    // DPoP (RFC 9449): the proof header in, the server nonce out.
    allowedHeaders: ['authorization', 'content-type', 'dpop'],
    exposedHeaders: ['www-authenticate', 'retry-after', 'dpop-nonce'],
    credentials: false,
    maxAge: 600,
  };
}

export async function registerCorsPolicy(app: FastifyInstance, options: { origins: readonly string[]; prefixed: boolean }): Promise<void> {
  const policy = options.origins.length > 0 ? twofoldCorsOptions(options.origins) : undefined;
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, cors: policy ?? false };
  });
  const hostHasCors = app.hasRequestDecorator('corsPreflightEnabled');
  if (policy !== undefined && !hostHasCors) {
    // Its catch-all OPTIONS route lands under Twofold's prefix, if any.
    await app.register(cors, policy);
  } else if (options.prefixed) {
    // With Twofold's policy in config.cors, the host's @fastify/cors answers the preflight in its
    // onRequest hook; with CORS off, nothing answers it and this is 404/405 like any unknown method.
    app.options('/*', { schema: { hide: true } }, (_request, reply) => reply.callNotFound());
  }
  if (policy === undefined) {
    app.addHook('onSend', (_request, reply, payload, done) => {
      // Without Allow-Origin no browser lets another site read the answer; the rest go with it.
      if (reply.hasHeader('access-control-allow-origin')) {
        for (const name of Object.keys(reply.getHeaders())) if (name.startsWith('access-control-')) reply.removeHeader(name);
      }
      done(null, payload);
    });
  }
}
