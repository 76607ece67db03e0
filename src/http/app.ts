// Builds the Fastify application around a running Twofold. Routes are thin: they validate
// with TypeBox schemas, authenticate, call one flow and shape the answer. Cross-cutting rules
// live here: JSON only, strict schemas (no type coercion), no-store, no tokens in URLs, one
// error handler, and logs that never carry a secret.
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { TwofoldError, invalidTokenError } from '../errors.js';
import type { Twofold } from '../twofold.js';
import { twofoldVersion } from '../version.js';
import { registerAuthentication } from './authenticate.js';
import { registerErrorHandling, toTwofoldError } from './error-handler.js';
import { sendProblem } from './problem.js';
import { accountRoutes } from './routes/account.js';
import { factorRoutes } from './routes/factors.js';
import { healthRoutes } from './routes/health.js';
import { loginRoutes } from './routes/login.js';
import { mfaRoutes } from './routes/mfa.js';
import { registerRoutes } from './routes/register.js';
import { sessionRoutes } from './routes/session.js';
import { wellKnownRoutes } from './routes/well-known.js';
import { registerPages } from '../ui/plugin.js';

export interface BuildAppOptions {
  /** A pino logger; by default the app logs nothing (tests, library use). */
  logger?: FastifyBaseLogger;
}

const tokenQueryParameters = /(?:^|[?&])(?:access_token|mfa_token|refresh_token|id_token|token)=/i;

export async function buildApp(twofold: Twofold, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const ctx = twofold.context;
  const app = Fastify({
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    bodyLimit: twofold.config.http.bodyLimitBytes,
    // No coercion: {"password": ["x"]} or {"code": 123456} is a 400, not a quietly converted string.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: true, useDefaults: true, allErrors: false } },
    return503OnClosing: true,
    // X-Forwarded-For is believed only from the proxies named in TWOFOLD_TRUSTED_PROXIES: anyone
    // else could claim any address and dodge the per-IP throttle (LG-05).
    trustProxy: twofold.config.http.trustedProxies.length > 0 ? twofold.config.http.trustedProxies : false,
    // Errors the router raises before any route runs (a malformed percent-encoding, an overlong
    // path parameter) otherwise bypass the error handler and answer in Fastify's own format.
    frameworkErrors: (error, _request, reply) => {
      sendProblem(reply, toTwofoldError(error) ?? new TwofoldError('invalid_request', 'The request URL is malformed.', { cause: error }));
    },
  });

  // Only JSON bodies: a form post or text/plain body is 415 (HT-02).
  app.removeContentTypeParser('text/plain');
  await app.register(helmet, {
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-site' },
    // HSTS only where TLS is guaranteed: a development server on http://localhost must not pin it.
    strictTransportSecurity: twofold.config.mode === 'production' ? { maxAge: 31536000, includeSubDomains: true } : false,
  });
  // CORS is off unless origins are listed: browsers on other sites cannot read API answers.
  if (twofold.config.http.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: twofold.config.http.corsOrigins,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type'],
      exposedHeaders: ['www-authenticate', 'retry-after'],
      credentials: false,
      maxAge: 600,
    });
  }
  registerErrorHandling(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Twofold', version: twofoldVersion, description: 'Two-factor authentication API (DESIGN.md §3)' },
      servers: [{ url: twofold.config.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    const query = request.url.slice(request.url.indexOf('?') + 1);
    if (request.url.includes('?') && tokenQueryParameters.test(`?${query}`)) {
      return sendProblem(reply, invalidTokenError('Tokens are never accepted in the URL; use the Authorization header.'));
    }
    return undefined;
  });
  registerAuthentication(app, ctx);
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    return payload;
  });

  registerRoutes(app, ctx);
  loginRoutes(app, ctx);
  factorRoutes(app, ctx);
  mfaRoutes(app, ctx);
  sessionRoutes(app, ctx);
  accountRoutes(app, ctx);
  wellKnownRoutes(app, ctx);
  healthRoutes(app, ctx, () => twofold.database.ping());
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (twofold.config.pages.enabled) await registerPages(app, ctx);
  return app;
}
