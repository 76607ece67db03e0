// The standalone server's Fastify application: an app of its own with Twofold's routes mounted
// at the root (src/http/plugin.ts holds the routes and their rules). Only what belongs to the
// whole server is set here: the logger, the router's and the HTTP parser's own errors, 503 while
// closing. The client IP is not (no trustProxy): the plugin derives it from
// TWOFOLD_TRUSTED_PROXIES itself, the same way here as in a host app.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { TwofoldError } from '../errors.js';
import type { Twofold } from '../twofold.js';
import { createClientErrorHandler } from './client-errors.js';
import { toTwofoldError } from './error-handler.js';
import { twofoldRoutes } from './plugin.js';
import { sendProblem } from './problem.js';
import { lazyChildLogger } from './request-logger.js';

export interface BuildAppOptions {
  /** A pino logger; by default the app logs nothing (tests, library use). */
  logger?: FastifyBaseLogger;
}

export async function buildApp(twofold: Twofold, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger, childLoggerFactory: lazyChildLogger }),
    bodyLimit: twofold.config.http.bodyLimitBytes,
    return503OnClosing: true,
    // What Node's HTTP parser refuses itself (a 431 for oversized headers) is problem+json too.
    clientErrorHandler: createClientErrorHandler({ strictTransportSecurity: twofold.config.mode === 'production' }),
    // Errors the router raises before any route runs (a malformed percent-encoding, an overlong
    // path parameter) otherwise bypass the error handler and answer in Fastify's own format.
    frameworkErrors: (error, _request, reply) => {
      sendProblem(reply, toTwofoldError(error) ?? new TwofoldError('invalid_request', 'The request URL is malformed.', { cause: error }));
    },
  });
  await app.register(twofoldRoutes, { twofold, notFoundHandler: true, logRequestFields: false });
  return app;
}
