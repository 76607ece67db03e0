// Express / Connect adapter: `app.get('/payments', requireAuth(verifier, { acr: 'aal2' }), handler)`
// sets `req.auth` to the claims, or answers 401/503 itself. Typed structurally, so the package
// does not depend on Express.
import type { TwofoldAccessClaims } from './claims.js';
import { authenticateRequest, type AuthenticateOptions } from './authenticate-request.js';
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
  headers: { authorization?: string | undefined } & Record<string, unknown>;
  auth?: TwofoldAccessClaims;
}

export interface ConnectResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export type ConnectMiddleware = (request: ConnectRequest, response: ConnectResponse, next: (error?: unknown) => void) => void;

export function requireAuth(verifier: Verifier, options: AuthenticateOptions = {}): ConnectMiddleware {
  return (request, response, next) => {
    authenticateRequest(verifier, request.headers.authorization, options).then((result) => {
      if (result.ok) {
        request.auth = result.claims;
        next();
        return;
      }
      response.statusCode = result.failure.status;
      for (const [name, value] of Object.entries(result.failure.headers)) response.setHeader(name, value);
      response.end(JSON.stringify(result.failure.body));
    }, next);
  };
}
