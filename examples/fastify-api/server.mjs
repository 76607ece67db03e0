// A Fastify API protected by twofold/verify. Run Twofold (npm start), then:
//   TWOFOLD_ISSUER=http://localhost:3000 PORT=4000 node examples/fastify-api/server.mjs
//   curl -H "Authorization: Bearer $ACCESS_TOKEN" http://localhost:4000/orders
// With DPOP=required every route takes only DPoP-bound tokens with a proof (twofold/client with
// `dpop: true` and its authorizedFetch send them); by default bearer and DPoP tokens both work.
import Fastify from 'fastify';
import { createVerifier, twofoldAuth } from 'twofold/verify';

/**
 * @param {{ issuer: string, audience?: string, dpop?: 'allowed' | 'required', verifier?: Partial<import('twofold/verify').VerifierOptions> }} options
 */
export async function createApp(options) {
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience ?? options.issuer, ...options.verifier });
  const app = Fastify();
  app.addHook('onClose', async () => verifier.close());
  await app.register(twofoldAuth, { verifier, realm: 'example-shop', dpop: options.dpop ?? 'allowed' });

  // Anyone signed in through Twofold.
  app.get('/profile', { preHandler: app.requireAuth() }, async (request) => ({ user: request.auth?.sub, signed_in_with: request.auth?.amr }));

  // Orders need a second factor (NIST AAL2): a login with only an e-mail code or a remembered
  // browser (acr aal1) is answered 401 with acr_values="aal2", so the client steps up.
  app.get('/orders', { preHandler: app.requireAuth({ acr: 'aal2' }) }, async (request) => ({ user: request.auth?.sub, orders: [] }));

  // Deleting the account needs the second factor within the last 5 minutes (RFC 9470 max_age).
  app.post('/account/delete', { preHandler: app.requireAuth({ acr: 'aal2', maxAge: 300 }) }, async (request) => ({ deleted: request.auth?.sub }));

  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dpop = process.env.DPOP === 'required' ? 'required' : 'allowed';
  const app = await createApp({ issuer: process.env.TWOFOLD_ISSUER ?? 'http://localhost:3000', audience: process.env.TWOFOLD_AUDIENCE, dpop });
  await app.listen({ port: Number(process.env.PORT ?? 4000), host: '127.0.0.1' });
  console.log(`example Fastify API on http://127.0.0.1:${app.server.address().port}`);
}
