// The DPoP proof of one request to Twofold's own API, checked against what the request is as the
// client addressed it: its method, and its URL at Twofold's PUBLIC origin (TWOFOLD_PUBLIC_URL) with
// the path it was sent to — never the Host header, which an untrusted client or a misconfigured
// proxy chooses. Nonces are required when TWOFOLD_DPOP_NONCE=required; jti claims go to the shared
// KV store, so a proof is single use across every instance.
import type { FastifyRequest } from 'fastify';
import { checkDpopProof, dpopRefusalSentence, type DpopProofResult } from '../../core/dpop/index.js';
import { TwofoldError } from '../../errors.js';
import type { FlowContext } from '../../flows/shared/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The key a valid DPoP proof of this request was made with (set once per request). */
    twofoldDpop: { jkt: string } | undefined;
  }
}

/** True when the request carries a DPoP header at all (one or several). */
export function hasDpopHeader(request: FastifyRequest): boolean {
  return request.headers.dpop !== undefined;
}

/**
 * The public URL the proof's htu must name: the public origin and the path the client used. A
 * public URL with a path (https://example.com/auth) is either a prefix Twofold is mounted under —
 * the request's path already starts with it — or one a proxy strips before Twofold sees the
 * request; then the client addressed it with the prefix, and so does its proof.
 */
export function publicRequestUrl(ctx: FlowContext, request: FastifyRequest): string {
  const publicUrl = new URL(ctx.config.publicUrl);
  const prefix = publicUrl.pathname.replace(/\/+$/, '');
  const raw = request.url.split(/[?#]/, 1)[0] ?? '/';
  const path = raw.startsWith('/') ? raw : `/${raw}`;
  const underPrefix = prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
  return `${publicUrl.origin}${underPrefix ? path : `${prefix}${path}`}`;
}

/**
 * The result of checking the request's DPoP header; undefined when there is none. Two DPoP
 * headers (RFC 9449 §4.3: exactly one) are a refusal, never a choice between them.
 */
export async function checkRequestProof(ctx: FlowContext, request: FastifyRequest, accessToken?: string): Promise<DpopProofResult | undefined> {
  const header = request.headers.dpop;
  if (header === undefined) return undefined;
  const headerCount = request.raw.rawHeaders.filter((name, index) => index % 2 === 0 && name.toLowerCase() === 'dpop').length;
  if (Array.isArray(header) || headerCount > 1) return { ok: false, error: 'invalid_dpop_proof', description: 'send exactly one DPoP header' };
  return checkDpopProof(header, {
    method: request.method,
    url: publicRequestUrl(ctx, request),
    now: ctx.now(),
    replay: ctx.dpop.replay,
    allowedAlgs: ctx.config.dpop.algorithms,
    ...(accessToken === undefined ? {} : { accessToken }),
    ...(ctx.config.dpop.requireNonce ? { nonce: ctx.dpop.nonces } : {}),
  });
}

/** The DPoP-Nonce header a use_dpop_nonce answer carries (RFC 9449 §8). */
export function nonceHeaders(ctx: FlowContext, error: string): Record<string, string> {
  return error === 'use_dpop_nonce' ? { 'DPoP-Nonce': ctx.dpop.nonces.issue() } : {};
}

/** A refused proof on a token request: 400 with the RFC's error code (problem+json). */
export function tokenRequestProofError(ctx: FlowContext, result: { error: 'invalid_dpop_proof' | 'use_dpop_nonce'; description: string }): TwofoldError {
  return new TwofoldError(result.error, dpopRefusalSentence(result.description), { headers: nonceHeaders(ctx, result.error) });
}

