// The current server nonce on every answer to a request that carried a DPoP header, so a client
// can put it in its next proof before the server insists (RFC 9449 §8.2). Nonces are stateless
// (an HMAC of the time window), so this costs one HMAC and stores nothing.
import type { FastifyInstance } from 'fastify';
import type { FlowContext } from '../../flows/shared/context.js';
import { hasDpopHeader } from './request-proof.js';

export function registerDpopNonceHeader(app: FastifyInstance, ctx: FlowContext): void {
  if (ctx.config.dpop.mode === 'off') return;
  app.addHook('onSend', (request, reply, payload, done) => {
    if (hasDpopHeader(request) && !reply.hasHeader('dpop-nonce')) reply.header('DPoP-Nonce', ctx.dpop.nonces.issue());
    done(null, payload);
  });
}
