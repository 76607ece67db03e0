// Reading bearer tokens from requests. Tokens come only from the Authorization header (RFC 6750
// §2.1): never from a URL, where they would end up in logs and Referer headers (JW-14).
import { decodeProtectedHeader } from 'jose';
import type { FastifyRequest } from 'fastify';
import { invalidTokenError } from '../errors.js';
import type { AccessAuthentication, PendingAuthentication } from '../flows/authenticate.js';
import { authenticateAccessToken, authenticateMfaToken } from '../flows/authenticate.js';
import type { FlowContext, RequestMeta } from '../flows/context.js';
import { tokenTypeHeader } from '../core/tokens/claims.js';

const bearerHeader = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function bearerTokenOf(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined) throw invalidTokenError('Send the token in an "Authorization: Bearer <token>" header.');
  const match = bearerHeader.exec(header);
  if (match?.[1] === undefined) throw invalidTokenError('The Authorization header is not a Bearer token.');
  return match[1];
}

export function requireAccessToken(ctx: FlowContext, request: FastifyRequest): Promise<AccessAuthentication> {
  return authenticateAccessToken(ctx, bearerTokenOf(request));
}

export function requireMfaToken(ctx: FlowContext, request: FastifyRequest): Promise<PendingAuthentication> {
  return authenticateMfaToken(ctx, bearerTokenOf(request));
}

/** Routes open to both kinds pick the verifier by `typ`; the verifier then pins `typ` itself. */
export function requireMfaOrAccessToken(ctx: FlowContext, request: FastifyRequest): Promise<PendingAuthentication | AccessAuthentication> {
  const token = bearerTokenOf(request);
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(token).typ;
  } catch {
    throw invalidTokenError('The token is malformed.');
  }
  return typ === tokenTypeHeader.mfa ? authenticateMfaToken(ctx, token) : authenticateAccessToken(ctx, token);
}

export function requestMeta(request: FastifyRequest): RequestMeta {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof userAgent === 'string' ? userAgent : undefined };
}
