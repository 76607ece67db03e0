// The routes a running app serves, read from Fastify's route tree, so that suites which must cover
// every route (fuzzing, CSRF) pick up a new one without anyone listing it.
import type { FastifyInstance } from 'fastify';

/** POST paths from the route tree (printRoutes with commonPrefix: false prints one segment per line). */
export function postPathsOf(app: FastifyInstance): string[] {
  const tree = app.printRoutes({ commonPrefix: false, method: 'POST' });
  const paths: string[] = [];
  const stack: Array<{ depth: number; path: string }> = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)(?:[└├]──\s)?(\S+)\s*(?:\((.*)\))?$/.exec(line.replace(/\t/g, '    '));
    if (match === null || match[2] === undefined) continue;
    const depth = match[1]!.length;
    while (stack.length > 0 && stack.at(-1)!.depth >= depth) stack.pop();
    const path = `${stack.at(-1)?.path ?? ''}${match[2]}`;
    stack.push({ depth, path });
    if (match[3] !== undefined && /\bPOST\b/.test(match[3])) paths.push(path);
  }
  return paths;
}

/** The hosted pages' form routes (every POST outside the JSON API). */
export function pagePostPathsOf(app: FastifyInstance): string[] {
  return postPathsOf(app).filter((path) => !path.startsWith('/v1/'));
}

/** API routes that take no token (FL-01's exceptions); every other route needs an mfa_token or an access token. */
export const publicApiRoutes: ReadonlySet<string> = new Set([
  'POST /v1/register',
  'POST /v1/login',
  'POST /v1/passkeys/authenticate/options',
  'POST /v1/passkeys/authenticate',
  'POST /v1/token/refresh',
  'POST /v1/password/forgot',
  'POST /v1/password/reset',
  'POST /v1/email/verify',
  'GET /.well-known/jwks.json',
  'GET /.well-known/openid-configuration',
  'GET /v1/revoked-sessions',
  'GET /healthz',
  'GET /readyz',
]);
