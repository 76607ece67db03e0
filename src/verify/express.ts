// Express / Connect adapter: `app.get('/payments', requireAuth(verifier, { acr: 'aal2' }), handler)`
// sets `req.auth` to the claims, or answers 401/503 itself. Typed structurally, so the package
// does not depend on Express.
//
// DPoP proofs are checked against the request's method and URL: by default Express's req.protocol
// and req.host (which honor X-Forwarded-* only under the app's "trust proxy" setting) and
// req.originalUrl; behind a proxy give `publicUrl` (or `requestUrl`). Express 4's req.host drops
// the port: there, give publicUrl.
import type { TwofoldAccessClaims } from './claims.js';
import { authenticateRequest, type AuthenticateOptions } from './authenticate-request.js';
import { requestUrlResolver, type RequestUrlOptions } from './request-url.js';
import type { Verifier } from './verifier.js';

declare global {
  // Express types its request through this global namespace (as passport does); merging here
  // gives `req.auth` its type in Express apps and is inert where Express is not installed.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Claims of the verified access token, set by requireAuth(). */
      auth?: TwofoldAccessClaims;
    }
  }
}

export interface ConnectRequest {
  headers: { authorization?: string | undefined; dpop?: string | string[] | undefined; host?: string | undefined } & Record<string, unknown>;
  auth?: TwofoldAccessClaims;
  method?: string | undefined;
  url?: string | undefined;
  /** Express: the URL before any router stripped its mount path. */
  originalUrl?: string | undefined;
  /** Express: "http" or "https", after the app's trust-proxy setting. */
  protocol?: string | undefined;
  /** Express 5: the host and port, after the app's trust-proxy setting. */
  host?: string | undefined;
  /** node:http's socket; a TLS socket says `encrypted`. */
  socket?: object | undefined;
}

export interface ConnectResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export type ConnectMiddleware = (request: ConnectRequest, response: ConnectResponse, next: (error?: unknown) => void) => void;

export interface ConnectAuthOptions extends AuthenticateOptions, RequestUrlOptions<ConnectRequest> {}

const pathOf = (request: ConnectRequest): string => request.originalUrl ?? request.url ?? '/';

/** The URL as this process sees it: a plain Connect request has no protocol, so the socket tells. */
function ownUrlOf(request: ConnectRequest): string {
  const encrypted = request.socket !== undefined && 'encrypted' in request.socket && request.socket.encrypted === true;
  const protocol = request.protocol ?? (encrypted ? 'https' : 'http');
  return `${protocol}://${request.host ?? request.headers.host ?? ''}${pathOf(request)}`;
}

export function requireAuth(verifier: Verifier, options: ConnectAuthOptions = {}): ConnectMiddleware {
  const { publicUrl, requestUrl, ...settings } = options;
  const urlOf = requestUrlResolver({ ...(publicUrl === undefined ? {} : { publicUrl }), ...(requestUrl === undefined ? {} : { requestUrl }) }, ownUrlOf, pathOf);
  return (request, response, next) => {
    Promise.resolve()
      .then(() => {
        const credentials = {
          method: request.method ?? 'GET',
          // Only DPoP requests need the URL (the proof's htu): built on demand.
          get url() {
            return urlOf(request);
          },
          authorization: request.headers.authorization,
          dpop: request.headers.dpop,
        };
        return authenticateRequest(verifier, credentials, settings);
      })
      .then((result) => {
        if (result.ok) {
          request.auth = result.claims;
          for (const [name, value] of Object.entries(result.headers)) response.setHeader(name, value);
          next();
          return;
        }
        response.statusCode = result.failure.status;
        for (const [name, value] of Object.entries(result.failure.headers)) response.setHeader(name, value);
        response.end(JSON.stringify(result.failure.body));
      }, next);
  };
}
