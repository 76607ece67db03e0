// DPoP on the routes that hand out tokens (a route says so with `config: { issuesTokens: true }`):
// a valid proof binds what the request issues to the proof's key (request.twofoldDpop, passed to
// the flows as RequestMeta.dpopJkt); a refused one is a 400 before the handler runs, so nothing —
// a refresh token, a code, an attempt — is spent on it. With TWOFOLD_DPOP=required a token request
// without a proof is refused; with off the header is not even read.
import type { FastifyInstance } from 'fastify';
import { TwofoldError } from '../../errors.js';
import type { FlowContext } from '../../flows/shared/context.js';
import { checkRequestProof, tokenRequestProofError } from './request-proof.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route may answer with tokens (TokenResponse): its DPoP proof binds them. */
    issuesTokens?: boolean;
  }
}

/** Registered after the authentication hook: an access token's proof, checked there, is not checked twice. */
export function registerTokenRequestProofs(app: FastifyInstance, ctx: FlowContext): void {
  app.decorateRequest('twofoldDpop', undefined);
  if (ctx.config.dpop.mode === 'off') return;
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.issuesTokens !== true || request.twofoldDpop !== undefined) return;
    const result = await checkRequestProof(ctx, request);
    if (result === undefined) {
      if (ctx.config.dpop.mode === 'required') throw new TwofoldError('invalid_dpop_proof', 'This server issues only DPoP-bound tokens: send a DPoP proof (RFC 9449) with the request.');
      return;
    }
    if (!result.ok) throw tokenRequestProofError(ctx, result);
    request.twofoldDpop = { jkt: result.jkt };
  });
}
