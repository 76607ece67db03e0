// Liveness says the process answers; readiness says it can serve: the database answers and the
// signing key is loaded. A load balancer takes an instance out while /readyz says 503.
import type { FastifyInstance } from 'fastify';
import type { FlowContext } from '../../flows/context.js';

export function healthRoutes(app: FastifyInstance, ctx: FlowContext, pingDatabase: () => Promise<void>): void {
  app.get('/healthz', { schema: { summary: 'Liveness' }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { summary: 'Readiness (database, signing key)' }, logLevel: 'warn' }, async (_request, reply) => {
    const checks = { database: await outcome(pingDatabase), signing_key: await outcome(async () => void (await ctx.keys.currentKey())) };
    const ready = Object.values(checks).every((check) => check === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });
}

async function outcome(check: () => Promise<void>): Promise<string> {
  try {
    await check();
    return 'ok';
  } catch {
    return 'unavailable';
  }
}
