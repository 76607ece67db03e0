// The request a proxy asks about, from the headers it adds: nginx sends X-Original-Method and
// X-Original-URL (the full URL) to /v1/forward-auth/nginx; Caddy, Traefik and HAProxy send X-Forwarded-Method, -Proto,
// -Host and -Uri. They are believed only when the TCP peer is one of TWOFOLD_TRUSTED_PROXIES:
// anyone else could name any host and path and learn (or get allowed) what a rule says about it.
// A header given twice, a missing one, or a URL that is not http(s) is refused, never guessed.
//
// Each route reads its own proxy's headers and nothing else: Caddy and Traefik pass every header
// the client sent on to Twofold and overwrite only the X-Forwarded-* ones they set, and nginx's
// auth_request passes them all too and sets only X-Original-*. Were /v1/forward-auth to prefer an
// X-Original-URL, a client could send one naming a bypass path and reach any other path behind
// Caddy or Traefik; were /nginx to fall back to X-Forwarded-*, a missing proxy_set_header would
// hand the question to the client.
import type { FastifyRequest } from 'fastify';
import proxyAddr from '@fastify/proxy-addr';
import { TwofoldError } from '../../errors.js';
import { normalizeRequestTarget, type RequestTarget } from '../../forward-auth/request-target.js';

export interface OriginalRequest {
  method: string;
  scheme: 'http' | 'https';
  /** As sent (may carry a port); the normalized host is target.host. */
  host: string;
  /** Path and query, as sent. */
  uri: string;
  /** scheme://host/uri: the URL the person asked for (the sign-in's rd, a DPoP proof's htu). */
  url: string;
  /** Normalized for the rules; undefined when normalization refused it (a denied request). */
  target: RequestTarget | undefined;
}

export type TrustedPeer = (request: FastifyRequest) => boolean;

export function createTrustedPeer(trustedProxies: readonly string[]): TrustedPeer {
  if (trustedProxies.length === 0) return () => false;
  const trust = proxyAddr.compile([...trustedProxies]);
  return (request) => {
    const address = request.raw.socket.remoteAddress;
    return address !== undefined && trust(address, 0);
  };
}

function single(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (value === undefined || value === '') return undefined;
  // Node joins a repeated header into one value ("a, b"): counted in the raw headers instead, so
  // two X-Original-URL are refused rather than read as one odd URL.
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let index = 0; index < raw.length; index += 2) if (raw[index]!.length === name.length && raw[index]!.toLowerCase() === name) count += 1;
  if (Array.isArray(value) || count > 1) throw new TwofoldError('invalid_request', `The ${name} header is given more than once.`);
  return value;
}

const absoluteUrl = /^(https?):\/\/([^/?#\\@]+)(.*)$/i;

/** `original`: nginx's X-Original-URL and X-Original-Method (/v1/forward-auth/nginx); `forwarded`: X-Forwarded-* (/v1/forward-auth). */
export type OriginalHeaders = 'original' | 'forwarded';

export function readOriginalRequest(request: FastifyRequest, trustedPeer: TrustedPeer, headers: OriginalHeaders): OriginalRequest {
  if (!trustedPeer(request)) {
    throw new TwofoldError('untrusted_proxy', 'Forward-auth answers only the proxies listed in TWOFOLD_TRUSTED_PROXIES.');
  }
  if (headers === 'original') {
    const originalUrl = single(request, 'x-original-url');
    if (originalUrl === undefined) throw new TwofoldError('invalid_request', 'Send the original request in X-Original-URL (and X-Original-Method).');
    const match = absoluteUrl.exec(originalUrl);
    if (match === null) throw new TwofoldError('invalid_request', 'X-Original-URL must be an absolute http(s) URL.');
    const method = single(request, 'x-original-method') ?? 'GET';
    return build(method, match[1]!.toLowerCase(), match[2]!, match[3] || '/');
  }
  const host = single(request, 'x-forwarded-host');
  const uri = single(request, 'x-forwarded-uri');
  if (host === undefined || uri === undefined) {
    throw new TwofoldError('invalid_request', 'Send the original request in X-Forwarded-Host and X-Forwarded-Uri (and X-Forwarded-Method, X-Forwarded-Proto); nginx asks /v1/forward-auth/nginx with X-Original-URL.');
  }
  const proto = (single(request, 'x-forwarded-proto') ?? 'https').toLowerCase();
  if (proto !== 'http' && proto !== 'https') throw new TwofoldError('invalid_request', 'X-Forwarded-Proto must be http or https.');
  if (!uri.startsWith('/')) throw new TwofoldError('invalid_request', 'X-Forwarded-Uri must start with "/".');
  return build(single(request, 'x-forwarded-method') ?? 'GET', proto, host, uri);
}

function build(method: string, scheme: string, host: string, uri: string): OriginalRequest {
  const target = normalizeRequestTarget({ method, host, uri });
  const url = target === undefined ? '' : `${scheme}://${host.toLowerCase()}${uri}`;
  return { method: target?.method ?? method, scheme: scheme as 'http' | 'https', host, uri, url, target };
}
