// Security headers on every answer (HT-01). helmet chooses them, once, at start-up: the set does
// not depend on the request, so it is applied as a plain header object in one synchronous hook.
// (@fastify/helmet rebuilt helmet's middleware — parsing the CSP directives — on every request,
// which cost about 6 % of a `GET /v1/me`; see docs/benchmarks.md.)
//
// API answers are JSON: the policy allows nothing to load and nothing to frame them. The hosted
// pages and /docs set their own Content-Security-Policy over this one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

export interface SecurityHeaderOptions {
  /** HSTS only where TLS is guaranteed: a development server on http://localhost must not pin it. */
  strictTransportSecurity: boolean;
}

/** The headers helmet sets for these options, read off a recording response. */
export function securityHeaders(options: SecurityHeaderOptions): Record<string, string> {
  const helmetOptions: HelmetOptions = {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-site' },
    frameguard: { action: 'deny' },
    strictTransportSecurity: options.strictTransportSecurity ? { maxAge: 31536000, includeSubDomains: true } : false,
  };
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string) => headers.set(name, value),
    removeHeader: (name: string) => headers.delete(name),
  };
  helmet(helmetOptions)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error !== undefined && error !== null) throw error;
  });
  // Nothing that carries a token or an account may be cached; routes that can be (JWKS) say so.
  headers.set('Cache-Control', 'no-store');
  return Object.fromEntries(headers);
}

export function registerSecurityHeaders(app: FastifyInstance, options: SecurityHeaderOptions): void {
  const headers = securityHeaders(options);
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}
