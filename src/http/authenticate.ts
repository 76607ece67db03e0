// Authentication of API requests. A route declares which token it takes in its config
// (`config: { auth: 'access' | 'mfa' | 'mfa-or-access' }`); the token is checked in the onRequest
// hook, before the body is parsed or validated, so an unauthenticated caller learns nothing about
// a route but "401". Tokens come only from the Authorization header (RFC 6750 §2.1): never from a
// URL, where they would end up in logs and Referer headers (JW-14). A DPoP-bound access token comes
// as `Authorization: DPoP <token>` with its proof, checked on every request (src/http/dpop/).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalidTokenError } from '../errors.js';
import type { AccessAuthentication, PendingAuthentication } from '../flows/sessions/authenticate.js';
import { authenticateAccessToken, authenticateMfaToken } from '../flows/sessions/authenticate.js';
import type { FlowContext, RequestMeta } from '../flows/shared/context.js';
import { bearerTokenFrom } from '../core/tokens/bearer-header.js';
import { requireAccessTokenBinding } from './dpop/access-token-binding.js';
import { presentedTokenFrom, type PresentedToken } from './dpop/authorization.js';
import { tokenTypeHeader } from '../core/tokens/claims.js';
import { decodeJwsHeader } from '../core/tokens/token-shape.js';

export type RouteAuth = 'access' | 'mfa' | 'mfa-or-access';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    twofoldAuth: PendingAuthentication | AccessAuthentication | undefined;
  }
}

export function bearerTokenOf(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined) throw invalidTokenError('Send the token in an "Authorization: Bearer <token>" header.');
  const token = bearerTokenFrom(header);
  if (token === undefined) throw invalidTokenError('The Authorization header is not a Bearer token.');
  return token;
}

function presentedTokenOf(ctx: FlowContext, request: FastifyRequest): PresentedToken {
  const header = request.headers.authorization;
  if (header === undefined) throw invalidTokenError('Send the token in an "Authorization: Bearer <token>" header.');
  const presented = presentedTokenFrom(header, { dpop: ctx.config.dpop.mode !== 'off' });
  if (presented === undefined) throw invalidTokenError('The Authorization header is not a Bearer token.');
  return presented;
}

/** Routes open to both kinds pick the verifier by `typ`; the verifier then pins `typ` itself. */
function authenticateEither(ctx: FlowContext, token: string): Promise<PendingAuthentication | AccessAuthentication> {
  const header = decodeJwsHeader(token);
  if (header === undefined) throw invalidTokenError('The token is malformed.');
  return header['typ'] === tokenTypeHeader.mfa ? authenticateMfaToken(ctx, token) : authenticateAccessToken(ctx, token);
}

export function registerAuthentication(app: FastifyInstance, ctx: FlowContext): void {
  app.decorateRequest('twofoldAuth', undefined);
  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config.auth;
    if (auth === undefined) return;
    const presented = presentedTokenOf(ctx, request);
    const { token } = presented;
    const authenticated =
      auth === 'access' ? await authenticateAccessToken(ctx, token) : auth === 'mfa' ? await authenticateMfaToken(ctx, token) : await authenticateEither(ctx, token);
    if (authenticated.kind === 'access') {
      request.twofoldDpop = await requireAccessTokenBinding(ctx, request, presented, authenticated.claims);
    } else if (presented.scheme === 'dpop') {
      // An mfa_token is never bound: its proof, if any, binds what the sign-in issues (token-requests.ts).
      throw invalidTokenError('An mfa_token is a bearer token: send it as "Authorization: Bearer <token>".');
    }
    request.twofoldAuth = authenticated;
  });
}

function authOf(request: FastifyRequest): PendingAuthentication | AccessAuthentication {
  if (request.twofoldAuth === undefined) throw new TypeError(`route ${request.routeOptions.url} reads an authentication it did not declare`);
  return request.twofoldAuth;
}

export function accessAuthOf(request: FastifyRequest): AccessAuthentication {
  const auth = authOf(request);
  if (auth.kind !== 'access') throw new TypeError('expected an access-token route');
  return auth;
}

export function mfaAuthOf(request: FastifyRequest): PendingAuthentication {
  const auth = authOf(request);
  if (auth.kind !== 'mfa') throw new TypeError('expected an mfa-token route');
  return auth;
}

export const eitherAuthOf = authOf;

/** Where a request came from: the client IP by Twofold's own rule (src/http/client-ip.ts), never Fastify's request.ip. */
export function requestMeta(request: FastifyRequest): RequestMeta {
  const userAgent = request.headers['user-agent'];
  return { ip: request.twofoldClientIp, userAgent: typeof userAgent === 'string' ? userAgent : undefined, dpopJkt: request.twofoldDpop?.jkt };
}
