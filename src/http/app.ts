// The standalone server's Fastify application: an app of its own with Twofold's routes mounted
// at the root (src/http/plugin.ts holds the routes and their rules). Only what belongs to the
// whole server is set here: the trusted proxies, the router's own errors, 503 while closing.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { TwofoldError } from '../errors.js';
import type { Twofold } from '../twofold.js';
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
    // X-Forwarded-For is believed only from the proxies named in TWOFOLD_TRUSTED_PROXIES: anyone
    // else could claim any address and dodge the per-IP throttle (LG-05).
    trustProxy: twofold.config.http.trustedProxies.length > 0 ? twofold.config.http.trustedProxies : false,
    // Errors the router raises before any route runs (a malformed percent-encoding, an overlong
    // path parameter) otherwise bypass the error handler and answer in Fastify's own format.
    frameworkErrors: (error, _request, reply) => {
      sendProblem(reply, toTwofoldError(error) ?? new TwofoldError('invalid_request', 'The request URL is malformed.', { cause: error }));
    },
  });
  await app.register(twofoldRoutes, { twofold, notFoundHandler: true });
  return app;
}
