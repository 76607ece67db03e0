// Dynamic client registration costs a budget of the client network (IPv6 per /64), like sign-ups:
// every registration request, accepted or not, takes one unit before the provider reads it, so a
// flood of registrations (or of guesses at the initial access token) from one network stops at
// TWOFOLD_OIDC_REGISTRATIONS_PER_CLIENT an hour. The refusal is the OAuth error shape a
// registering client reads (RFC 7591 §3.2.2 allows other codes than its own), with Retry-After.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TwofoldError } from '../errors.js';
import { takeRequestBudgets } from '../flows/budgets/request-budgets.js';
import { clientNetworkId } from '../flows/shared/client-network.js';
import type { FlowContext } from '../flows/shared/context.js';
import { requestMeta } from '../http/authenticate.js';

const hourMs = 60 * 60 * 1000;

/** True when the request may go on; otherwise the 429 has been sent. */
export async function takeRegistrationBudget(ctx: FlowContext, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  const meta = requestMeta(request);
  const network = clientNetworkId(ctx, meta);
  if (network === undefined) return true;
  const detail = 'Too many client registrations from this network; try again later.';
  try {
    await takeRequestBudgets(ctx, 'oidc_registration', [{ scope: 'client', key: `oidc-registration:client:${network}`, limit: ctx.config.oidc.registration.perClientPerHour, windowMs: hourMs, detail }], meta);
    return true;
  } catch (error) {
    if (!(error instanceof TwofoldError) || error.code !== 'too_many_attempts') throw error;
    const retryAfter = error.headers['Retry-After'] ?? '3600';
    await reply.code(429).header('Retry-After', retryAfter).header('Cache-Control', 'no-store').type('application/json').send({ error: 'temporarily_unavailable', error_description: detail });
    return false;
  }
}
