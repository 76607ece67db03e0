// DPoP on Twofold's own access-token routes (RFC 9449 §7): a token bound to a key (cnf.jkt) is
// honoured only as `Authorization: DPoP <token>` with a proof of that key made for this request
// and this token (ath). A bound token sent as Bearer — copied out of a client without its key —
// is refused, as is a DPoP-scheme token that is not bound; with TWOFOLD_DPOP=required a bearer
// access token is refused too. The proof is checked on every request: the verified-token cache
// holds only the token's signature check, never this.
import type { FastifyRequest } from 'fastify';
import type { AccessTokenClaims } from '../../core/tokens/claims.js';
import { TwofoldError } from '../../errors.js';
import type { FlowContext } from '../../flows/shared/context.js';
import { dpopRefusalSentence } from '../../core/dpop/index.js';
import type { PresentedToken } from './authorization.js';
import { checkRequestProof, nonceHeaders } from './request-proof.js';

type ChallengeError = 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce';

/** 401 invalid_token (problem+json) with a DPoP challenge saying what to fix (RFC 9449 §7.1). */
export function dpopChallengeError(ctx: FlowContext, error: ChallengeError, description: string): TwofoldError {
  const quoted = description.replace(/["\\]/g, "'");
  return new TwofoldError('invalid_token', description, {
    headers: {
      'WWW-Authenticate': `DPoP error="${error}", error_description="${quoted}", algs="${ctx.config.dpop.algorithms.join(' ')}"`,
      ...nonceHeaders(ctx, error),
    },
  });
}

/** Checks how an authenticated access token was presented; returns the proof's key when it was DPoP. */
export async function requireAccessTokenBinding(ctx: FlowContext, request: FastifyRequest, presented: PresentedToken, claims: AccessTokenClaims): Promise<{ jkt: string } | undefined> {
  const mode = ctx.config.dpop.mode;
  if (mode === 'off') return undefined;
  const jkt = claims.cnf?.jkt;
  if (presented.scheme === 'bearer') {
    if (jkt !== undefined) throw dpopChallengeError(ctx, 'invalid_token', 'This access token is DPoP-bound: send it as "Authorization: DPoP <token>" with a DPoP proof.');
    if (mode === 'required') throw dpopChallengeError(ctx, 'invalid_token', 'This server accepts only DPoP-bound access tokens.');
    return undefined;
  }
  if (typeof jkt !== 'string') throw dpopChallengeError(ctx, 'invalid_token', 'The DPoP scheme needs a DPoP-bound access token; this one is a bearer token.');
  const result = await checkRequestProof(ctx, request, presented.token);
  if (result === undefined) throw dpopChallengeError(ctx, 'invalid_dpop_proof', 'Send a DPoP proof of the key this token is bound to.');
  if (!result.ok) throw dpopChallengeError(ctx, result.error, dpopRefusalSentence(result.description));
  if (result.jkt !== jkt) throw dpopChallengeError(ctx, 'invalid_dpop_proof', 'The DPoP proof is not made with the key this token is bound to.');
  return { jkt };
}
