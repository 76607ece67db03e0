// Liveness says the process answers; readiness says it can serve: the database and Redis (when
// configured) answer and the signing key is loaded. A load balancer takes an instance out while
// /readyz says 503, and /readyz names the dependency that is down.
import type { FastifyInstance } from 'fastify';
import type { FlowContext } from '../../flows/shared/context.js';

export function healthRoutes(app: FastifyInstance, ctx: FlowContext, pingDatabase: () => Promise<void>): void {
  const pingRedis = ctx.kv.kind === 'redis' ? () => ctx.kv.ping() : undefined;
  app.get('/healthz', { schema: { summary: 'Liveness' }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { summary: 'Readiness (database, signing key)' }, logLevel: 'warn' }, async (_request, reply) => {
    const [database, redis, signingKey] = await Promise.all([
      outcome(pingDatabase),
      pingRedis === undefined ? undefined : outcome(pingRedis),
      outcome(async () => void (await ctx.keys.currentKey())),
    ]);
    const checks = { database, ...(redis === undefined ? {} : { redis }), signing_key: signingKey };
    const ready = Object.values(checks).every((check) => check === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });
}

/** Each check is bounded, so a dependency that hangs cannot hang the readiness probe. */
const checkTimeoutMs = 2000;

async function outcome(check: () => Promise<void>): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), checkTimeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}
