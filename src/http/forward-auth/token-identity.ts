// API clients behind a protected app: a request carrying a Twofold access token instead of a
// cookie is judged by the same rules, with the token's session as the identity. A DPoP-bound
// token needs its proof, made for the ORIGINAL request (its method and URL at the app), since
// that is the request the client signed; a bound token sent as Bearer is refused (RFC 9449 §7).
import type { FastifyRequest } from 'fastify';
import { checkDpopProof, dpopRefusalSentence } from '../../core/dpop/index.js';
import type { AccessTokenClaims } from '../../core/tokens/claims.js';
import { invalidTokenError } from '../../errors.js';
import { authenticateAccessToken } from '../../flows/sessions/authenticate.js';
import type { FlowContext } from '../../flows/shared/context.js';
import { dpopChallengeError } from '../dpop/access-token-binding.js';
import { presentedTokenFrom } from '../dpop/authorization.js';
import type { ForwardAuthIdentity } from '../../forward-auth/decide.js';
import { identityOf } from './cookie-sessions.js';
import type { OriginalRequest } from './original-request.js';

/** The identity of the request's access token; undefined without an Authorization header; throws 401 for a bad token. */
export async function tokenIdentity(ctx: FlowContext, request: FastifyRequest, original: OriginalRequest): Promise<ForwardAuthIdentity | undefined> {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const presented = presentedTokenFrom(header, { dpop: ctx.config.dpop.mode !== 'off' });
  if (presented === undefined) throw invalidTokenError('The Authorization header is not a Bearer or DPoP access token.');
  const checkPresentation = async (claims: AccessTokenClaims) => {
    const mode = ctx.config.dpop.mode;
    if (mode === 'off') return;
    const jkt = claims.cnf?.jkt;
    if (presented.scheme === 'bearer') {
      if (jkt !== undefined) throw dpopChallengeError(ctx, 'invalid_token', 'This access token is DPoP-bound: send it as "Authorization: DPoP <token>" with a DPoP proof.');
      if (mode === 'required') throw dpopChallengeError(ctx, 'invalid_token', 'This server accepts only DPoP-bound access tokens.');
      return;
    }
    if (typeof jkt !== 'string') throw dpopChallengeError(ctx, 'invalid_token', 'The DPoP scheme needs a DPoP-bound access token; this one is a bearer token.');
    const proof = request.headers.dpop;
    if (proof === undefined) throw dpopChallengeError(ctx, 'invalid_dpop_proof', 'Send a DPoP proof of the key this token is bound to.');
    if (Array.isArray(proof)) throw dpopChallengeError(ctx, 'invalid_dpop_proof', 'Send exactly one DPoP header.');
    const result = await checkDpopProof(proof, {
      method: original.method,
      url: original.url,
      now: ctx.now(),
      replay: ctx.dpop.replay,
      allowedAlgs: ctx.config.dpop.algorithms,
      accessToken: presented.token,
      ...(ctx.config.dpop.requireNonce ? { nonce: ctx.dpop.nonces } : {}),
    });
    if (!result.ok) throw dpopChallengeError(ctx, result.error, dpopRefusalSentence(result.description));
    if (result.jkt !== jkt) throw dpopChallengeError(ctx, 'invalid_dpop_proof', 'The DPoP proof is not made with the key this token is bound to.');
  };
  const auth = await authenticateAccessToken(ctx, presented.token, checkPresentation);
  return identityOf(auth.session, auth.user);
}
