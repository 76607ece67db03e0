// An API that accepts the access tokens Twofold's OpenID Provider issues for it, on plain
// node:http, with twofold/verify's requireAuth (the Connect-style middleware the README
// documents): any signed-in person for GET /me, a second factor (acr aal2) for GET /admin.
// Its audience is its resource URI (API_RESOURCE), exactly as registered in Twofold's
// TWOFOLD_OIDC_RESOURCES: a client that asked for this resource gets an RFC 9068 JWT with that
// `aud`, and a token for any other audience — Twofold's own JSON-API access tokens included — is
// refused (401). Set API_RESOURCE to Twofold's audience (TWOFOLD_AUDIENCE, by default its public
// URL) and it takes Twofold's own access tokens instead. Run Twofold, then:
//   TWOFOLD_ISSUER=http://localhost:3000 API_RESOURCE=http://localhost:4002 PORT=4002 \
//     node examples/oidc-protected-api/server.mjs
//   curl -H "Authorization: Bearer $ACCESS_TOKEN" http://localhost:4002/me
import { createServer } from 'node:http';
import { createVerifier, requireAuth } from 'twofold/verify';

/**
 * audience: the `aud` the tokens must carry — this API's resource URI (or Twofold's own audience).
 * @param {{ issuer: string, audience: string, verifier?: Partial<import('twofold/verify').VerifierOptions> }} options
 */
export function createApi(options) {
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience, ...options.verifier });
  const routes = {
    'GET /me': { guard: requireAuth(verifier), answer: (auth) => ({ user: auth.sub, acr: auth.acr, amr: auth.amr }) },
    'GET /admin': { guard: requireAuth(verifier, { acr: 'aal2' }), answer: (auth) => ({ user: auth.sub, admin: true }) },
  };

  const server = createServer((request, response) => {
    const route = routes[`${request.method} ${new URL(request.url ?? '/', 'http://api').pathname}`];
    response.setHeader('content-type', 'application/json');
    if (route === undefined) {
      response.statusCode = 404;
      response.end(JSON.stringify({ error: 'not_found' }));
      return;
    }
    // requireAuth answers 401 (with the Bearer challenge) or 503 itself; on success request.auth holds the claims.
    route.guard(request, response, (error) => {
      if (error !== undefined) {
        response.statusCode = 500;
        response.end(JSON.stringify({ error: 'internal_error' }));
        return;
      }
      response.end(JSON.stringify(route.answer(request.auth)));
    });
  });
  server.on('close', () => verifier.close());
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 4002);
  const server = createApi({ issuer: process.env.TWOFOLD_ISSUER ?? 'http://localhost:3000', audience: process.env.API_RESOURCE ?? `http://localhost:${port}` });
  server.listen(port, '127.0.0.1', () => console.log(`example protected API on http://127.0.0.1:${server.address().port}`));
}
