// Runs Twofold as a network server: creates the runtime, builds the app, listens, and shuts
// down gracefully — on close, Fastify stops accepting connections and lets in-flight requests
// finish before the database is closed.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { TwofoldConfig } from '../config/schema.js';
import { createLoggingEventSink } from '../flows/shared/security-events.js';
import { createTwofold, StartupError, type Twofold } from '../twofold.js';
import { buildApp } from './app.js';
import { createLogger } from './logger.js';

export interface RunningServer {
  app: FastifyInstance;
  twofold: Twofold;
  logger: Logger;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: TwofoldConfig, logger: Logger = createLogger(config)): Promise<RunningServer> {
  const twofold = await createTwofold(config, {
    events: createLoggingEventSink(logger.child({ component: 'security' })),
    logger: logger.child({ component: 'runtime' }),
  });
  if (config.mode === 'production' && config.redis === undefined) {
    logger.warn('TWOFOLD_REDIS_URL is not set: throttling counters and the session denylist live in this process, so run a single instance only');
  }
  if (config.metrics.enabled && config.metrics.token === undefined) {
    // Production refuses this (src/config/load.ts); elsewhere it is allowed, and said out loud.
    logger.warn('GET /metrics is served without TWOFOLD_METRICS_TOKEN: anyone who can reach this port can read sign-in and failure counts');
  }
  let app: FastifyInstance;
  let shuttingDown = false;
  try {
    app = await buildApp(twofold, { logger });
    // Responses finished during shutdown close their connection, so keep-alive clients do not
    // hold the server open after their last in-flight request.
    app.addHook('onSend', async (_request, reply, payload) => {
      if (shuttingDown) reply.header('Connection', 'close');
      return payload;
    });
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    await twofold.close();
    throw listenError(error, config) ?? error;
  }
  // The upkeep (retention, caps, timed-out sessions) runs on its timer from createTwofold; once now
  // too, so a server started after a long pause does not wait an interval for it.
  void twofold.maintenance.runOnce().then(
    (report) => report.auditEventsExpired + report.sessionsRetired > 0 && logger.info(report, 'background upkeep at start-up'),
    (error: unknown) => logger.warn({ err: error }, 'background upkeep failed at start-up'),
  );
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.http.port;
  let closing: Promise<void> | undefined;
  return {
    app,
    twofold,
    logger,
    url: `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`,
    close() {
      shuttingDown = true;
      closing ??= app.close().then(() => twofold.close());
      return closing;
    },
  };
}

/** The mistakes a newcomer makes when starting a second server, said as what to change. */
function listenError(error: unknown, config: TwofoldConfig): StartupError | undefined {
  const { host, port } = config.http;
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new StartupError(`port ${port} on ${host} is already in use (another Twofold, or another program); stop it, or set TWOFOLD_PORT to a free port`, { cause: error });
    case 'EACCES':
      return new StartupError(`port ${port} on ${host} needs privileges this process does not have; set TWOFOLD_PORT to a port above 1023`, { cause: error });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StartupError(`cannot listen on ${host}: it is not an address of this machine; set TWOFOLD_HOST (localhost, 0.0.0.0 or an address of this machine)`, { cause: error });
    default:
      return undefined;
  }
}
