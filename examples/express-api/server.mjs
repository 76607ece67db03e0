// An Express API protected by twofold/verify. Run Twofold (npm start), then:
//   TWOFOLD_ISSUER=http://localhost:3000 PORT=4001 node examples/express-api/server.mjs
//   curl -H "Authorization: Bearer $ACCESS_TOKEN" http://localhost:4001/orders
// With DPOP=required every route takes only DPoP-bound tokens with a proof (twofold/client with
// `dpop: true` and its authorizedFetch send them); by default bearer and DPoP tokens both work.
import express from 'express';
import { createVerifier, requireAuth } from 'twofold/verify';

/**
 * @param {{ issuer: string, audience?: string, dpop?: 'allowed' | 'required', verifier?: Partial<import('twofold/verify').VerifierOptions> }} options
 */
export function createApp(options) {
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience ?? options.issuer, ...options.verifier });
  const app = express();
  const realm = 'example-shop';
  const dpop = options.dpop ?? 'allowed';

  // Anyone signed in through Twofold.
  app.get('/profile', requireAuth(verifier, { realm, dpop }), (request, response) => {
    response.json({ user: request.auth.sub, signed_in_with: request.auth.amr });
  });

  // Orders need a second factor (NIST AAL2); an aal1 login is answered 401 with acr_values="aal2".
  app.get('/orders', requireAuth(verifier, { realm, dpop, acr: 'aal2' }), (request, response) => {
    response.json({ user: request.auth.sub, orders: [] });
  });

  // Deleting the account needs the second factor within the last 5 minutes (RFC 9470 max_age).
  app.post('/account/delete', requireAuth(verifier, { realm, dpop, acr: 'aal2', maxAge: 300 }), (request, response) => {
    response.json({ deleted: request.auth.sub });
  });

  return { app, close: () => verifier.close() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dpop = process.env.DPOP === 'required' ? 'required' : 'allowed';
  const { app } = createApp({ issuer: process.env.TWOFOLD_ISSUER ?? 'http://localhost:3000', audience: process.env.TWOFOLD_AUDIENCE, dpop });
  const server = app.listen(Number(process.env.PORT ?? 4001), '127.0.0.1', () => {
    console.log(`example Express API on http://127.0.0.1:${server.address().port}`);
  });
}
